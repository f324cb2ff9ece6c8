/**
 * The real PushChannel: one udp4 socket, like 1.4's single push socket. Pushes leave from it and clients
 * ack to the address they came from, so acks arrive on it too.
 */
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import type { Log } from "../core/log.js";
import type { PushAck, PushChannel } from "./push-channel.js";
import { parseAckStamp } from "./push-packet.js";

export interface UdpPushChannelOptions {
  /** 0.0.0.0 by default: clients must reach the acks' destination on whichever interface they were pushed from. */
  readonly host?: string;
  /** 0 (ephemeral) by default, as 1.4: clients learn the port from the push itself. */
  readonly port?: number;
}

export class UdpPushChannel implements PushChannel {
  private ackListener: ((ack: PushAck) => void) | undefined;
  private expecting: (ip: string, port: number) => boolean = () => false;
  private readonly closed: Promise<void>;
  /** Datagrams dropped unread: from an address no push awaits an ack from. */
  unsolicited = 0;

  private constructor(
    private readonly socket: Socket,
    private readonly log: Log,
  ) {
    // Not events.once: that would reject on a socket 'error', which here is routine and only logged.
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("message", (bytes, from) => this.received(bytes, from.address, from.port));
    // A socket error (e.g. ICMP unreachable reported on some platforms) concerns one datagram, not the socket.
    socket.on("error", (err) => log.warn("udp push socket error", { error: err.message }));
  }

  static async open(log: Log, options: UdpPushChannelOptions = {}): Promise<UdpPushChannel> {
    const socket = createSocket("udp4");
    const bound = once(socket, "listening");
    socket.bind(options.port ?? 0, options.host ?? "0.0.0.0");
    try {
      await bound;
    } catch (err) {
      socket.close();
      throw err;
    }
    return new UdpPushChannel(socket, log);
  }

  /** The bound port, for logs and tests. */
  get port(): number {
    return this.socket.address().port;
  }

  send(datagram: Uint8Array, ip: string, port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const failed = (err: Error): void => {
        this.log.debug("udp push send failed", { ip, port, error: err.message });
        resolve(false);
      };
      try {
        this.socket.send(datagram, port, ip, (err) => (err ? failed(err) : resolve(true)));
      } catch (err) {
        // Bad ports and a closed socket throw synchronously; the contract is a failed attempt, never a throw.
        failed(err as Error);
      }
    });
  }

  onAck(listener: (ack: PushAck) => void, expecting: (ip: string, port: number) => boolean): void {
    this.ackListener = listener;
    this.expecting = expecting;
  }

  /** Idempotent: a second call waits for the same close. */
  close(): Promise<void> {
    try {
      this.socket.close();
    } catch {
      // Already closed (ERR_SOCKET_DGRAM_NOT_RUNNING): nothing left to release.
    }
    return this.closed;
  }

  private received(bytes: Buffer, ip: string, port: number): void {
    if (!this.expecting(ip, port)) {
      this.unsolicited++;
      return;
    }
    const lastRefTime = parseAckStamp(bytes);
    if (lastRefTime === undefined) {
      this.log.debug("udp push: ignored a datagram that is not an ack", { ip, port, bytes: bytes.length });
      return;
    }
    this.ackListener?.({ ip, port, lastRefTime });
  }
}
