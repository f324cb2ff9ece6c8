/** A standalone node's HTTP app for `inject()` tests, built from the real core and a recording push fake. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { createHttpApp } from "../../src/api/app.js";
import type { ServiceRef } from "../../src/core/naming.js";
import type { HeldSubscriber, PushSubscriptions, Subscriber } from "../../src/push/subscriber.js";
import type { NamingNode } from "../../src/node/naming-node.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";
import { nodeContext, standaloneNode } from "../support/node-context.js";

export class RecordingPush implements PushSubscriptions {
  readonly subscribed: Subscriber[] = [];
  /** What each 2.x connection subscribed to (the stream push's record, set by tests). */
  readonly byConnection = new Map<string, Array<{ service: ServiceRef; clusters: string }>>();
  subscribe(subscriber: Subscriber): boolean {
    this.subscribed.push(subscriber);
    return true;
  }
  /** Every subscriber as if it polled at time 0. */
  subscribersOf(service: ServiceRef): HeldSubscriber[] {
    return this.subscribed
      .filter((s) => s.service.namespaceId === service.namespaceId && s.service.groupedName === service.groupedName)
      .map((s) => ({ ...s, polledAt: 0 }));
  }
  subscriptionsOf(connectionId: string): ReadonlyArray<{ service: ServiceRef; clusters: string }> {
    return this.byConnection.get(connectionId) ?? [];
  }
}

export interface TestApp {
  readonly app: FastifyInstance;
  readonly node: NamingNode;
  readonly push: RecordingPush;
  readonly scheduler: VirtualScheduler;
  /** Every datum's digest, to prove a refused request changed nothing. */
  digests(): string;
}

/** Every datum's digest, one line each. */
const digestsOf = (node: NamingNode): string =>
  node.registry
    .sortedKeys()
    .map((k) => `${k}=${node.registry.get(k)!.digest}`)
    .join("\n");

export async function testApp(bodyLimit = 64 * 1024): Promise<TestApp> {
  const scheduler = new VirtualScheduler(1);
  const node = standaloneNode(scheduler);
  await node.start();
  const push = new RecordingPush();
  const app = createHttpApp(nodeContext(node, { push }), { bodyLimit });
  await app.ready();
  return { app, node, push, scheduler, digests: () => digestsOf(node) };
}

export const JAVA_CLIENT = { "user-agent": "Nacos-Java-Client:v1.0.0" };

/** A request the way the nacos npm SDK sends it: every parameter in the query string, no body. */
export async function call(
  app: FastifyInstance,
  method: string,
  path: string,
  params: Record<string, string> = {},
  headers: Record<string, string> = {},
) {
  const qs = new URLSearchParams(params).toString();
  const res = await app.inject({ method: method as "GET", url: `${path}${qs === "" ? "" : `?${qs}`}`, headers });
  return { status: res.statusCode, text: res.body, json: () => JSON.parse(res.body) };
}

export const ADMIN = { username: "nacos", password: "admin-secret" };
export const CLUSTER_SECRET = "cluster-secret";

export interface AuthApp {
  readonly app: FastifyInstance;
  readonly node: NamingNode;
  readonly scheduler: VirtualScheduler;
  /** The key its tokens are signed with. */
  readonly tokenKey: Buffer;
  /** Every datum's digest, to prove a refused request changed nothing. */
  digests(): string;
}

/**
 * A standalone node's app with auth on, the admin `ADMIN` created, and the cluster secret `CLUSTER_SECRET`;
 * `seed` writes to the node before the app (and so the admin's bootstrap) starts.
 */
export async function authApp(options: { tokenTtlSeconds?: number; seed?: (node: NamingNode) => Promise<void> } = {}): Promise<AuthApp> {
  const { tokenTtlSeconds = 18_000, seed } = options;
  const scheduler = new VirtualScheduler(1);
  const node = standaloneNode(scheduler);
  await node.start();
  await seed?.(node);
  const auth = { tokenKey: randomBytes(32), tokenTtlSeconds, adminPassword: ADMIN.password };
  const app = createHttpApp(nodeContext(node, { auth, peerSecret: CLUSTER_SECRET }));
  await app.ready();
  return { app, node, scheduler, tokenKey: auth.tokenKey, digests: () => digestsOf(node) };
}

export async function tokenOf(app: FastifyInstance, who: { username: string; password: string }): Promise<string> {
  const res = await call(app, "POST", "/nacos/v1/auth/users/login", who);
  assert.equal(res.status, 200, res.text);
  return res.json().accessToken;
}

/** Creates `user` with `role`, which has `action` on `resource` (through the admin API). */
export async function withUser(
  app: FastifyInstance,
  user: { username: string; password: string },
  grant: { role: string; resource: string; action: string },
) {
  const as = { accessToken: await tokenOf(app, ADMIN) };
  const { role, resource, action } = grant;
  for (const [path, params] of [
    ["/nacos/v1/auth/users", user],
    ["/nacos/v1/auth/roles", { role, username: user.username }],
    ["/nacos/v1/auth/permissions", { role, resource, action }],
  ] as const) {
    const res = await call(app, "POST", path, { ...as, ...params });
    assert.equal(res.status, 200, `${path}: ${res.text}`);
  }
  return user;
}
