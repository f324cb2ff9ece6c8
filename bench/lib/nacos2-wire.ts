/**
 * A lean Nacos 2.x client connection over raw HTTP/2, for load and for counting what a server spends per
 * connection: the HTTP load generator (load.ts) writes raw HTTP/1.1 so the generator costs little next to the
 * server, and this is its counterpart for the client port. One TCP connection, one bi-stream on which
 * ConnectionSetupRequest is sent and every server request answered (detection would otherwise drop it), unary
 * `Request/request` calls as HTTP/2 streams. Payloads are encoded with the generated schema of the vendored proto.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";
import { connect as netConnect } from "node:net";
import { PayloadSchema } from "../../gen/nacos2/nacos_grpc_service_pb.js";

export interface WireMessage {
  readonly type: string;
  readonly body: Record<string, any>;
}

const UNARY_HEADERS = { ":method": "POST", ":path": "/Request/request", "content-type": "application/grpc", te: "trailers" };
const STREAM_HEADERS = { ...UNARY_HEADERS, ":path": "/BiRequestStream/requestBiStream" };

export function frame(type: string, body: unknown): Buffer {
  const value = Buffer.from(JSON.stringify(body), "utf8");
  const payload = create(PayloadSchema, { metadata: { type, clientIp: "127.0.0.1", headers: {} }, body: { typeUrl: "", value } });
  const bytes = toBinary(PayloadSchema, payload);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** Calls `onMessage` with each complete gRPC message of `stream`. */
function readMessages(stream: ClientHttp2Stream, onMessage: (m: WireMessage) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  stream.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const length = pending.readUInt32BE(1);
      const payload = fromBinary(PayloadSchema, pending.subarray(5, 5 + length));
      pending = pending.subarray(5 + length);
      const text = Buffer.from(payload.body?.value ?? []).toString("utf8");
      onMessage({ type: payload.metadata?.type ?? "", body: text === "" ? {} : JSON.parse(text) });
    }
  });
}

export class Nacos2Wire {
  private nextId = 0;

  private constructor(
    private readonly session: ClientHttp2Session,
    stream: ClientHttp2Stream,
  ) {
    readMessages(stream, (m) => {
      if (!m.type.endsWith("Request")) return;
      const answer = { resultCode: 200, errorCode: 0, requestId: m.body.requestId, success: true };
      stream.write(frame(m.type.replace(/Request$/, "Response"), answer));
    });
  }

  /** A connection to the client port from `localAddress`, its bi-stream open and ConnectionSetupRequest sent. */
  static open(port: number, localAddress = "127.0.0.1"): Promise<Nacos2Wire> {
    return new Promise((resolve, reject) => {
      const session = http2Connect(`http://127.0.0.1:${port}`, {
        createConnection: () => netConnect({ host: "127.0.0.1", port, localAddress }),
      });
      session.once("error", reject);
      session.once("connect", () => {
        const stream = session.request(STREAM_HEADERS);
        stream.on("error", () => {});
        stream.write(frame("ConnectionSetupRequest", { clientVersion: "Nacos-Bench:v2.4.0", tenant: "", labels: {}, abilityTable: null }));
        session.removeListener("error", reject);
        session.on("error", () => {});
        resolve(new Nacos2Wire(session, stream));
      });
    });
  }

  /** One unary call; resolves with the answer (rejects when the call fails). */
  call(type: string, body: Record<string, unknown> = {}): Promise<WireMessage> {
    return new Promise((resolve, reject) => {
      const stream = this.session.request(UNARY_HEADERS);
      let answer: WireMessage | undefined;
      readMessages(stream, (m) => (answer = m));
      stream.once("error", reject);
      stream.once("close", () =>
        answer === undefined ? reject(new Error(`${type}: no answer (code ${stream.rstCode})`)) : resolve(answer),
      );
      stream.end(frame(type, { headers: {}, requestId: String(++this.nextId), ...body }));
    });
  }

  /** Resolves once the server serves this connection's requests (after its ConnectionSetupRequest). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.call("HealthCheckRequest");
      if (answer.type === "HealthCheckResponse") return;
      if (Date.now() > deadline) throw new Error(`connection never set up: ${JSON.stringify(answer)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): void {
    this.session.destroy();
  }
}
