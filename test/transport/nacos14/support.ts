/** Shared helpers of the legacy HTTP transport tests: fixtures, instances, stub servers and legacy nodes. */
import { testInstance } from "../../support/fixtures.js";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Instance } from "../../../src/core/instance.js";
import { silentLog } from "../../../src/core/log.js";
import { RealScheduler } from "../../../src/runtime/real-scheduler.js";
import { defaultNodeConfig, NamingNode, type NodeConfig } from "../../../src/node/naming-node.js";
import type { PeerTransport } from "../../../src/node/ports.js";
import { RegistryLegacyIngest } from "../../../src/node/distro/compat14/owner-lists.js";
import { legacyPeerRoutes } from "../../../src/transport/nacos14/routes.js";
import { LegacyPeerTransport } from "../../../src/transport/nacos14/client.js";
import type { VerifyReceiverConfig } from "../../../src/node/distro/compat14/checksum-verify.js";

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
    return reply.code(out.status ?? 200).type(out.type ?? "text/plain").send(out.body);
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

export interface LegacyNode {
  readonly address: string;
  readonly node: NamingNode;
  readonly app: FastifyInstance;
  readonly transport: LegacyPeerTransport;
  readonly ingest: RegistryLegacyIngest;
  close(): Promise<void>;
}

export interface LegacyNodeOptions {
  readonly port: number;
  readonly members: readonly string[];
  readonly secret?: string;
  /** The node's body limit (4 MiB unless given). */
  readonly bodyLimitBytes?: number;
  readonly verify?: VerifyReceiverConfig;
  readonly config?: Partial<NodeConfig>;
  /** The transport the node uses; the legacy one when absent. */
  readonly transport?: (legacy: LegacyPeerTransport) => PeerTransport;
}

/**
 * A real core node on 127.0.0.1:`port` that serves the legacy peer routes and reaches its peers with the
 * legacy transport, wired the way the runtime wires it.
 */
export async function startLegacyNode(options: LegacyNodeOptions): Promise<LegacyNode> {
  const address = `127.0.0.1:${options.port}`;
  const scheduler = new RealScheduler();
  let ingest: RegistryLegacyIngest | undefined;
  const transport = new LegacyPeerTransport(
    { self: address, version: "0.1.0", timeoutMs: 2000, secret: options.secret, snapshotChunkBytes: 4096, maxBodyBytes: 4 << 20 },
    { ownedDatums: () => ingest?.ownedDatums() ?? [] },
  );
  const config: NodeConfig = {
    ...defaultNodeConfig(address, options.members),
    abilities: { grpcPeer: false, httpPeer: true },
    ...options.config,
  };
  const node = new NamingNode(config, scheduler, options.transport?.(transport) ?? transport, silentLog);
  ingest = new RegistryLegacyIngest(node.registry, node.mapper, node.members);
  const app = Fastify();
  await app.register(legacyPeerRoutes, {
    handler: node,
    ingest,
    client: transport,
    scheduler,
    log: silentLog,
    secret: options.secret,
    bodyLimitBytes: options.bodyLimitBytes ?? 4 << 20,
    ...(options.verify === undefined ? {} : { verify: options.verify }),
  });
  await app.listen({ host: "127.0.0.1", port: options.port });
  return {
    address,
    node,
    app,
    transport,
    ingest,
    async close() {
      node.close();
      scheduler.cancelAll();
      transport.close();
      await app.close();
    },
  };
}
