/** Shared helpers of the legacy HTTP transport tests: fixtures, instances, stub servers and legacy nodes. */
import { testInstance } from "../../support/fixtures.js";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { silentLog } from "../../../src/core/log.js";
import { RealScheduler } from "../../../src/runtime/real-scheduler.js";
import type { NamingNode, NodeConfig } from "../../../src/node/naming-node.js";
import { PeerError, type PeerTransport, type PeerTransportMode } from "../../../src/node/ports.js";
import { assemble } from "../../../src/runtime/assemble.js";
import { defaultNodeConfig } from "../../../src/runtime/options.js";

export function fixtureText(name: string): string {
  return readFileSync(new URL(`fixtures/${name}`, import.meta.url), "utf8");
}

export const fixture = (name: string): unknown => JSON.parse(fixtureText(name));

export const instance = testInstance;

/** Polls `check` every 20 ms until it holds, for at most `timeoutMs`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export type StubAnswer = (req: RecordedRequest) => { status?: number; body: string; type?: string };

/**
 * A fastify app on 127.0.0.1 that records every request (bodies as text, GET bodies too) and answers with
 * `answer`.
 */
export async function stubServer(answer: StubAnswer): Promise<{ app: FastifyInstance; address: string; requests: RecordedRequest[] }> {
  const app = Fastify();
  const requests: RecordedRequest[] = [];
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));
  const handle = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let body = typeof req.body === "string" ? req.body : "";
    if (req.method === "GET") for await (const piece of req.raw) body += String(piece);
    const url = new URL(req.url, "http://stub");
    const recorded: RecordedRequest = {
      method: req.method,
      url: req.url,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
    };
    requests.push(recorded);
    const out = answer(recorded);
    return reply
      .code(out.status ?? 200)
      .type(out.type ?? "text/plain")
      .send(out.body);
  };
  app.all("/*", handle);
  await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, address: `127.0.0.1:${(app.server.address() as AddressInfo).port}`, requests };
}

/** A free loopback port (bound, then released). */
export async function freePort(): Promise<number> {
  const probe = Fastify();
  await probe.listen({ host: "127.0.0.1", port: 0 });
  const { port } = probe.server.address() as AddressInfo;
  await probe.close();
  return port;
}

/** A gRPC transport to peers that have no gRPC port: every call is refused. */
const refuse = (peer: string): Promise<never> => Promise.reject(new PeerError("refused", peer, "connection refused"));
export const NO_GRPC: PeerTransport = {
  sync: refuse,
  verify: refuse,
  query: refuse,
  report: refuse,
  forward: refuse,
  // biome-ignore lint/correctness/useYield: a stream that fails before its first chunk
  async *snapshot(peer) {
    await refuse(peer);
  },
};

export interface LegacyNode {
  readonly address: string;
  readonly node: NamingNode;
  readonly app: FastifyInstance;
  /** Which transport reaches each peer now. */
  transportOf(peer: string): "grpc" | "http";
  close(): Promise<void>;
}

export interface LegacyNodeOptions {
  readonly port: number;
  readonly members: readonly string[];
  readonly secret?: string;
  /** The node's body limit (4 MiB unless given). */
  readonly bodyLimitBytes?: number;
  readonly config?: Partial<NodeConfig>;
  /** `http` (the default) speaks only the 1.4 protocol; `auto` also tries gRPC, which every peer here refuses. */
  readonly mode?: PeerTransportMode;
  /** How long a snapshot answer waits for a reader that does not read. */
  readonly snapshotStallMs?: number;
}

/**
 * A real node on 127.0.0.1:`port` that serves the 1.4 peer routes and reaches its peers over 1.4's HTTP,
 * assembled the way the runtime assembles it.
 */
export async function startLegacyNode(options: LegacyNodeOptions): Promise<LegacyNode> {
  const address = `127.0.0.1:${options.port}`;
  const scheduler = new RealScheduler();
  const mode = options.mode ?? "http";
  const config: NodeConfig = {
    ...defaultNodeConfig(address, options.members),
    abilities: { grpcPeer: mode !== "http", httpPeer: true },
    ...options.config,
  };
  const assembled = assemble({
    config,
    mode,
    scheduler,
    log: silentLog,
    secret: options.secret,
    peerTimeoutMs: 2000,
    bodyLimitBytes: options.bodyLimitBytes ?? 4 << 20,
    grpc: () => NO_GRPC,
    snapshotStallMs: options.snapshotStallMs,
  });
  const app = Fastify();
  await assembled.servePeerRoutes(app);
  await app.listen({ host: "127.0.0.1", port: options.port });
  return {
    address,
    node: assembled.node,
    app,
    transportOf: assembled.transportOf!,
    async close() {
      assembled.node.close();
      scheduler.cancelAll();
      assembled.closeTransports();
      await app.close();
    },
  };
}
