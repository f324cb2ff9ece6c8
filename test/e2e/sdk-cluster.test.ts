/**
 * The real `nacos-naming` SDK against a 3-node cluster started as the README says (one member list, the
 * cluster secret in the environment). The SDK sends each call to a random server, so what it wrote must be in
 * every node's very next answer: a register answered before the other nodes held it went missing from the
 * next read (issue 16, item 20: `selectInstances(healthy=false)` gave p2, the next `getAllInstances` p1 alone).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import nacosNaming from "nacos-naming";
import { freePort, nacos, startNode, waitUntil, type NodeProcess } from "../support/node-process.js";

interface Host {
  ip: string;
  port: number;
  healthy: boolean;
}

const quiet = { ...console, info() {}, debug() {}, log() {}, warn() {}, error() {} } as typeof console;
const listener = createServer((socket) => socket.destroy());
let nodes: NodeProcess[] = [];
let client: InstanceType<typeof nacosNaming.NacosNamingClient> | undefined;

before(async () => {
  listener.listen(0, "127.0.0.1");
  await once(listener, "listening");
  const ports = [await freePort(), await freePort(), await freePort()];
  const members = ports.map((p) => `127.0.0.1:${p}`).join(",");
  const env = { NACOS_CLUSTER_SECRET: "s3cret" };
  nodes = await Promise.all(ports.map((port) => startNode({ port, env, args: ["--members", members] })));
  for (const observer of nodes)
    await waitUntil(
      async () => {
        const body = (await nacos(observer.url, "GET", "/nacos/v1/core/cluster/nodes")).json();
        return (body.data as Array<{ state: string }>).every((m) => m.state === "UP");
      },
      20_000,
      () => `every member UP as seen by ${observer.address}`,
    );
});

after(async () => {
  await (client as unknown as { close(): Promise<void> } | undefined)?.close().catch(() => {});
  await Promise.all(nodes.map((n) => n.stop()));
  listener.close();
});

const described = (hosts: readonly Host[]): string[] => hosts.map((h) => `${h.ip}:${h.port}:${h.healthy}`).sort();

test("two persistent instances registered through the SDK are in every node's next answer, with their health", async () => {
  client = new nacosNaming.NacosNamingClient({ logger: quiet, serverList: nodes.map((n) => n.address).join(","), namespace: "public" });
  await client.ready();
  const listening = (listener.address() as AddressInfo).port;
  const closed = await freePort(); // nothing listens there: the owner's TCP check keeps p2 unhealthy
  const expected = [`127.0.0.1:${closed}:false`, `127.0.0.1:${listening}:true`].sort();
  // Each round is the user's sequence on a new service; the race it lost took a few rounds to show.
  for (let round = 0; round < 10; round++) {
    const svc = `sdk-cluster-${round}`;
    await client.registerInstance(svc, { ip: "127.0.0.1", port: listening, ephemeral: false } as never);
    await client.registerInstance(svc, { ip: "127.0.0.1", port: closed, ephemeral: false, healthy: false } as never);
    // The first answer of each node counts, as the SDK takes whatever the server it picked answers.
    const answers = await Promise.all(
      nodes.map(async (n) => {
        const res = await nacos(n.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: svc, healthyOnly: "false" });
        assert.equal(res.status, 200, res.text);
        return described(res.json().hosts as Host[]);
      }),
    );
    for (const [i, n] of nodes.entries()) assert.deepEqual(answers[i], expected, `${svc} on ${n.address}, right after the writes`);
    const unhealthy = (await client.selectInstances(svc, "DEFAULT_GROUP", "", false)) as Host[];
    assert.deepEqual(described(unhealthy), [`127.0.0.1:${closed}:false`], `${svc}: selectInstances(healthy=false)`);
    const all = (await client.getAllInstances(svc, "DEFAULT_GROUP", "", false)) as Host[];
    assert.deepEqual(described(all), expected, `${svc}: getAllInstances(subscribe=false)`);
  }
});
