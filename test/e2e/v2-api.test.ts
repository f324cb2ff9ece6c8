/**
 * The v2 OpenAPI of a real ts-nacos process, with the real 1.x `nacos-naming` SDK as the other side: instances a
 * client registers, beats and removes over `/nacos/v2/ns` are what the SDK discovers and is pushed, and the SDK,
 * as a subscriber, is one of the clients `/nacos/v2/ns/client/*` lists. Runs in the loopback-only namespace.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import nacosNaming from "nacos-naming";
import { nacos, nodeStarter, waitUntil } from "../support/node-process.js";

interface Host {
  ip: string;
  port: number;
  weight: number;
  metadata: Record<string, string>;
}

const quiet = { ...console, info() {}, debug() {}, log() {}, warn() {} } as typeof console;
const startNode = nodeStarter();
const clients: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
});

/** A v2 call with its parameters in a form body, as 2.x's forms take them; returns the envelope. */
async function v2(base: string, method: string, path: string, params: Record<string, string>) {
  const res = await fetch(`${base}/nacos/v2/ns${path}`, {
    method,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

test("instances registered over /nacos/v2/ns are discovered and pushed to a 1.x SDK, which the v2 client listing shows", async () => {
  const server = await startNode();
  const at = (ip: string) => ({ serviceName: "v2-orders", ip, port: "8080" });
  for (const [ip, extra] of [
    ["192.0.2.70", { weight: "2", metadata: '{"zone":"a"}' }],
    ["192.0.2.71", {}],
  ] as const) {
    const res = await v2(server.url, "POST", "/instance", { ...at(ip), ...extra });
    assert.deepEqual([res.status, res.json()], [200, { code: 0, message: "success", data: "ok" }], res.text);
  }

  const sdk = new nacosNaming.NacosNamingClient({ logger: quiet, serverList: server.address, namespace: "public" });
  clients.push(sdk as unknown as { close(): Promise<void> });
  await sdk.ready();
  const all = (await sdk.getAllInstances("v2-orders", "DEFAULT_GROUP", "", false)) as Host[];
  const first = all.find((h) => h.ip === "192.0.2.70");
  assert.deepEqual([all.length, first?.weight, first?.metadata], [2, 2, { zone: "a" }]);

  const seen: string[][] = [];
  sdk.subscribe("v2-orders", (hosts: Host[]) => seen.push(hosts.map((h) => h.ip).sort()));
  await waitUntil(
    () => seen.length > 0,
    10_000,
    () => "the SDK's first subscribe callback",
  );

  const beat = await v2(server.url, "PUT", "/instance/beat", at("192.0.2.71"));
  assert.deepEqual(beat.json(), { clientBeatInterval: 5000, code: 10200, lightBeatEnabled: true });

  const removed = await v2(server.url, "DELETE", "/instance", at("192.0.2.71"));
  assert.equal(removed.json().data, "ok", removed.text);
  await waitUntil(
    () => seen.some((ips) => ips.length === 1 && ips[0] === "192.0.2.70"),
    8_000,
    () => `the removal pushed to the SDK, seen ${JSON.stringify(seen)}`,
  );

  // The SDK takes UDP pushes, so to 2.x it is an `ip:port#true` client subscribed to the service.
  const listed = await nacos(server.url, "GET", "/nacos/v2/ns/client/service/subscriber/list", { serviceName: "v2-orders" });
  const subscribers = listed.json().data as Array<{ clientId: string; ip: string; port: number }>;
  assert.equal(subscribers.length, 1, listed.text);
  assert.match(subscribers[0]!.clientId, /^127\.0\.0\.1:\d+#true$/);
  const ids = (await nacos(server.url, "GET", "/nacos/v2/ns/client/list")).json().data as string[];
  assert.deepEqual(ids.sort(), [subscribers[0]!.clientId, "192.0.2.70:8080#true"].sort());
  const subscribed = await nacos(server.url, "GET", "/nacos/v2/ns/client/subscribe/list", { clientId: subscribers[0]!.clientId });
  assert.deepEqual(
    subscribed.json().data.map((s: { serviceName: string }) => s.serviceName),
    ["v2-orders"],
  );
});
