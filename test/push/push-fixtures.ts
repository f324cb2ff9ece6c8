/** Shared by the push tests: the npm Nacos client's view of a datagram, a scripted PushChannel, and data builders. */
import { testInstance } from "../support/fixtures.js";
import { createRequire } from "node:module";
import type { Instance } from "../../src/core/instance.js";
import { DEFAULT_NAMESPACE, type ServiceRef } from "../../src/core/naming.js";
import type { RegistryView } from "../../src/core/registry.js";
import { defaultSwitches, type Switches } from "../../src/core/switches.js";
import type { PushAck, PushChannel } from "../../src/push/push-channel.js";
import type { PushSource } from "../../src/push/push-service.js";
import { parseAckStamp } from "../../src/push/push-packet.js";
import type { Subscriber } from "../../src/push/subscriber.js";

// The real client's decompression (gzip sniffed by magic bytes), so the tests read pushes exactly as it does.
const nacosUtil = createRequire(import.meta.url)("nacos-naming/lib/util/index.js") as {
  tryDecompress(bytes: Buffer): Buffer;
};

export interface ReceivedPush {
  readonly type: string;
  readonly data: string;
  readonly lastRefTime: number;
}

/** PushReceiver._handlePushMessage up to the ack: decompress if gzip, JSON.parse. */
export function decodeLikeNacosClient(datagram: Uint8Array): ReceivedPush {
  return JSON.parse(nacosUtil.tryDecompress(Buffer.from(datagram)).toString()) as ReceivedPush;
}

/** The ack PushReceiver sends for a `dom` push: the parsed stamp re-serialised by JSON.stringify. */
export function ackLikeNacosClient(push: ReceivedPush): Buffer {
  return Buffer.from(JSON.stringify({ type: "push-ack", lastRefTime: push.lastRefTime, data: "" }));
}

export const isGzip = (bytes: Uint8Array): boolean => bytes[0] === 0x1f && bytes[1] === 0x8b;

export interface SentDatagram {
  readonly datagram: Uint8Array;
  readonly ip: string;
  readonly port: number;
  readonly push: ReceivedPush;
}

/** Records every send; the test decides which targets hang, which fail, and when acks arrive. */
export class FakePushChannel implements PushChannel {
  readonly sent: SentDatagram[] = [];
  /** `ip:port` targets whose sends never complete, like a receiver stuck behind a full network path. */
  readonly hanging = new Set<string>();
  /** `ip:port` targets whose sends fail. */
  readonly failing = new Set<string>();
  private listener: ((ack: PushAck) => void) | undefined;
  private expecting: (ip: string, port: number) => boolean = () => false;
  /** Acks the channel dropped unread because no push awaited one from their address. */
  unsolicited = 0;

  send(datagram: Uint8Array, ip: string, port: number): Promise<boolean> {
    this.sent.push({ datagram, ip, port, push: decodeLikeNacosClient(datagram) });
    const target = `${ip}:${port}`;
    if (this.hanging.has(target)) return new Promise(() => {});
    return Promise.resolve(!this.failing.has(target));
  }

  onAck(listener: (ack: PushAck) => void, expecting: (ip: string, port: number) => boolean): void {
    this.listener = listener;
    this.expecting = expecting;
  }

  sentTo(ip: string, port: number): SentDatagram[] {
    return this.sent.filter((s) => s.ip === ip && s.port === port);
  }

  /** Acks a datagram the way the npm client does, through the same ack parser the real channel uses. */
  ack(sent: SentDatagram): void {
    if (!this.expecting(sent.ip, sent.port)) {
      this.unsolicited++;
      return;
    }
    const lastRefTime = parseAckStamp(ackLikeNacosClient(sent.push));
    if (lastRefTime === undefined) throw new Error("client ack did not parse");
    this.listener?.({ ip: sent.ip, port: sent.port, lastRefTime });
  }
}

export const SERVICE: ServiceRef = { namespaceId: DEFAULT_NAMESPACE, groupedName: "DEFAULT_GROUP@@orders" };

export function instance(ip: string, port: number, overrides: Partial<Instance> = {}): Instance {
  return testInstance(ip, port, SERVICE.groupedName, { app: "", ...overrides });
}

export const JAVA_CLIENT_AGENT = "Nacos-Java-Client:v1.0.0";

export function subscriber(udpPort: number, overrides: Partial<Subscriber> = {}): Subscriber {
  return {
    service: SERVICE,
    clusters: "",
    ip: "127.0.0.1",
    udpPort,
    agent: JAVA_CLIENT_AGENT,
    app: "",
    env: "",
    healthyOnly: false,
    ...overrides,
  };
}

/** A node's registry and switches as push sees them; complete unless `complete` is set, `finish()` completes it. */
export function pushSource(
  registry: RegistryView,
  switches: Switches = defaultSwitches(),
  complete = true,
): PushSource & { finish(): void } {
  const listeners: Array<() => void> = [];
  return {
    registry,
    switches,
    get registryComplete() {
      return complete;
    },
    whenRegistryComplete(listener) {
      if (complete) listener();
      else listeners.push(listener);
    },
    finish() {
      complete = true;
      for (const listener of listeners.splice(0)) listener();
    },
  };
}
