/** A standalone node's HTTP app for `inject()` tests, built from the real core and a recording push fake. */
import type { FastifyInstance } from "fastify";
import { createHttpApp } from "../../src/api/app.js";
import type { ServiceRef } from "../../src/core/naming.js";
import type { PushSubscriptions, Subscriber } from "../../src/push/subscriber.js";
import type { NamingNode } from "../../src/node/naming-node.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";
import { nodeContext, standaloneNode } from "../support/node-context.js";

export class RecordingPush implements PushSubscriptions {
  readonly subscribed: Subscriber[] = [];
  subscribe(subscriber: Subscriber): boolean {
    this.subscribed.push(subscriber);
    return true;
  }
  subscribersOf(service: ServiceRef): Subscriber[] {
    return this.subscribed.filter((s) => s.service.namespaceId === service.namespaceId && s.service.groupedName === service.groupedName);
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

export async function testApp(bodyLimit = 64 * 1024): Promise<TestApp> {
  const scheduler = new VirtualScheduler(1);
  const node = standaloneNode(scheduler);
  await node.start();
  const push = new RecordingPush();
  const app = createHttpApp(nodeContext(node, { push }), { bodyLimit });
  await app.ready();
  const digests = (): string =>
    node.registry
      .sortedKeys()
      .map((k) => `${k}=${node.registry.get(k)!.digest}`)
      .join("\n");
  return { app, node, push, scheduler, digests };
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
