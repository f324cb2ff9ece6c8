/**
 * A Nacos 2.x client written from the vendored proto alone (@grpc/proto-loader, protobufjs encoding, none of our
 * code): one channel, so its unary calls and its bi-stream share one TCP connection as the real clients' do. Tests
 * drive the protocol step by step with it, including the steps a real client would never get wrong.
 */
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const PROTO_DIR = fileURLToPath(new URL("../../proto", import.meta.url));

interface WirePayload {
  metadata?: { type?: string; clientIp?: string; headers?: Record<string, string> };
  body?: { typeUrl?: string; value?: Buffer };
}

export interface Message {
  readonly type: string;
  readonly body: Record<string, any>;
}

type Unary = (payload: WirePayload, callback: (err: grpc.ServiceError | null, answer?: WirePayload) => void) => void;

const definition = protoLoader.loadSync("nacos2/nacos_grpc_service.proto", { includeDirs: [PROTO_DIR], defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as Record<string, grpc.ServiceClientConstructor>;

export const encodeBody = (body: unknown): Buffer => Buffer.from(JSON.stringify(body), "utf8");

function toMessage(payload: WirePayload): Message {
  const text = payload.body?.value?.toString("utf8") ?? "";
  return { type: payload.metadata?.type ?? "", body: text === "" ? {} : JSON.parse(text) };
}

export class RawNacos2Client {
  private readonly channel: grpc.Channel;
  private readonly unary: grpc.Client & { request: Unary };
  private readonly streaming: grpc.Client & { requestBiStream: () => grpc.ClientDuplexStream<WirePayload, WirePayload> };
  private stream: grpc.ClientDuplexStream<WirePayload, WirePayload> | undefined;
  /** Every server request received on the stream, in order. */
  readonly received: Message[] = [];
  /** Whether server requests are answered (a dead client does not answer). */
  answering = true;
  /** Called with every server request as it arrives (before it is answered). */
  onMessage: ((message: Message) => void) | undefined;
  private nextId = 0;

  constructor(target: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    // A channel of its own (not grpc-js's shared subchannels): each client is one TCP connection, as a real client.
    this.channel = new grpc.Channel(target, credentials, { "grpc.use_local_subchannel_pool": 1, ...options });
    const Request = loaded.Request!;
    const BiRequestStream = loaded.BiRequestStream!;
    this.unary = new Request(target, credentials, { channelOverride: this.channel }) as never;
    this.streaming = new BiRequestStream(target, credentials, { channelOverride: this.channel }) as never;
  }

  /** Sends raw payload fields (type, body bytes, headers) and resolves with the decoded answer. */
  callRaw(type: string, body: Buffer | undefined, headers: Record<string, string> = {}): Promise<Message> {
    const payload: WirePayload = {
      metadata: { type, clientIp: "127.0.0.1", headers },
      ...(body === undefined ? {} : { body: { value: body } }),
    };
    return new Promise((resolve, reject) => {
      this.unary.request(payload, (err, answer) => (err === null ? resolve(toMessage(answer!)) : reject(err)));
    });
  }

  call(type: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Message> {
    return this.callRaw(type, encodeBody({ headers: {}, requestId: String(++this.nextId), ...body }), headers);
  }

  /** Opens the bi-stream (once) and sends ConnectionSetupRequest on it, as the 2.x clients do. */
  setUp(tenant = "", labels: Record<string, string> = {}): void {
    this.openStream();
    this.send("ConnectionSetupRequest", { clientVersion: "Nacos-Raw-Test:v2.4.0", tenant, labels, abilityTable: null });
  }

  openStream(): grpc.ClientDuplexStream<WirePayload, WirePayload> {
    if (this.stream !== undefined) return this.stream;
    const stream = this.streaming.requestBiStream();
    stream.on("error", () => {});
    stream.on("data", (payload: WirePayload) => {
      const message = toMessage(payload);
      this.received.push(message);
      this.onMessage?.(message);
      if (this.answering) {
        const type = message.type.replace(/Request$/, "Response");
        this.send(type, { resultCode: 200, errorCode: 0, requestId: message.body.requestId, success: true });
      }
    });
    this.stream = stream;
    return stream;
  }

  /** Writes one payload on the stream. */
  send(type: string, body: unknown): void {
    this.openStream().write({ metadata: { type, clientIp: "127.0.0.1", headers: {} }, body: { value: encodeBody(body) } });
  }

  /** Resolves once the stream has ended or failed (the server closed the connection). */
  streamClosed(): Promise<void> {
    const stream = this.openStream();
    return new Promise((resolve) => {
      stream.once("close", () => resolve());
      stream.once("error", () => resolve());
      stream.once("end", () => resolve());
    });
  }

  /** Sets up and waits until the server serves this connection's requests (what the clients' health checks do). */
  async ready(tenant = "", labels: Record<string, string> = {}, timeoutMs = 10_000): Promise<void> {
    this.setUp(tenant, labels);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.call("HealthCheckRequest");
      if (answer.type === "HealthCheckResponse") return;
      if (Date.now() > deadline) throw new Error(`connection never set up: ${JSON.stringify(answer)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): void {
    this.stream?.cancel();
    this.unary.close();
    this.streaming.close();
    this.channel.close();
  }
}
