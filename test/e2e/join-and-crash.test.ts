/**
 * Real processes, production-sized data: a 2-node cluster holding 50,000 instances in 5,000 services is
 * joined by a third node, which streams the registry and must end up identical. Then a node is SIGKILLed
 * under write and beat load, restarted on the same address, and the cluster converges without losing any
 * instance whose client kept beating.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freePort, nacos, startNode, waitUntil, type NodeProcess } from "../support/node-process.js";

const SERVICES = 5_000;
const PER_SERVICE = 10;
const LONG_LIVED = JSON.stringify({ "preserved.heart.beat.timeout": "3600000", "preserved.ip.delete.timeout": "3600000" });

let ports: number[] = [];
let members = "";
const running = new Map<number, NodeProcess>();

interface Digest {
  keys: number;
  instances: number;
  digest: string;
}
const digestOf = async (n: NodeProcess): Promise<Digest> => (await nacos(n.url, "GET", "/nacos/v1/ns/operator/distro/digest")).json();

async function identical(nodes: NodeProcess[], instances?: number): Promise<boolean> {
  const ds = await Promise.all(nodes.map(digestOf));
  return (
    ds.every((d) => d.digest === ds[0]!.digest && d.keys === ds[0]!.keys) && (instances === undefined || ds[0]!.instances === instances)
  );
}

/** Runs `task` over `items` with `concurrency` requests in flight. */
async function pool<T>(items: T[], concurrency: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

const start = async (port: number): Promise<NodeProcess> => {
  const node = await startNode({ port, args: ["--members", members], timeoutMs: 120_000 });
  running.set(port, node);
  return node;
};

before(async () => {
  ports = [await freePort(), await freePort(), await freePort()];
  members = ports.map((p) => `127.0.0.1:${p}`).join(",");
});

after(async () => {
  await Promise.all([...running.values()].map((n) => n.stop("SIGKILL")));
});

test("a third node joins a 50k-instance cluster by streaming snapshot and converges to the identical registry", {
  timeout: 300_000,
}, async () => {
  const [a, b] = await Promise.all([start(ports[0]!), start(ports[1]!)]);
  const work = Array.from({ length: SERVICES * PER_SERVICE }, (_, i) => i);
  await pool(work, 48, async (i) => {
    const via = i % 2 === 0 ? a : b;
    const res = await nacos(via.url, "POST", "/nacos/v1/ns/instance", {
      serviceName: `bulk-${Math.floor(i / PER_SERVICE)}`,
      ip: `198.51.100.${1 + (i % PER_SERVICE)}`,
      port: String(10_000 + Math.floor(i / PER_SERVICE)),
      metadata: LONG_LIVED,
    });
    assert.equal(res.text, "ok", `register ${i}: ${res.status} ${res.text}`);
  });
  await waitUntil(
    () => identical([a, b], SERVICES * PER_SERVICE),
    60_000,
    () => "the two nodes agree",
  );
  const c = await start(ports[2]!);
  const prom = (await nacos(c.url, "GET", "/nacos/actuator/prometheus")).text;
  const loaded = /^nacos_snapshot_instances_loaded (\d+)/m.exec(prom);
  assert.ok(loaded !== null && Number(loaded[1]) >= SERVICES * PER_SERVICE, `the joiner loaded the registry by snapshot:\n${prom}`);
  await waitUntil(
    () => identical([a, b, c], SERVICES * PER_SERVICE),
    60_000,
    () => "the joiner is identical",
  );
});

test("SIGKILL a node under write and beat load, restart it: convergence with no lost live instance", { timeout: 300_000 }, async () => {
  const nodes = () => [...running.values()];
  const live = new Set<string>();
  let stop = false;
  let seq = 0;
  const pick = (): NodeProcess => {
    const up = nodes().filter((n) => n.child.exitCode === null && n.child.signalCode === null);
    return up[Math.floor(Math.random() * up.length)]!;
  };
  // Writers register new instances and keep beating them, like SDK clients: full beats re-create an
  // instance a dead owner took down with it.
  const beatAll = async (): Promise<void> => {
    for (const id of [...live]) {
      const [svc, port] = id.split("|") as [string, string];
      const beat = JSON.stringify({
        serviceName: `DEFAULT_GROUP@@${svc}`,
        ip: "203.0.113.7",
        port: Number(port),
        cluster: "DEFAULT",
        weight: 1,
        metadata: {},
      });
      await nacos(pick().url, "PUT", "/nacos/v1/ns/instance/beat", { serviceName: `DEFAULT_GROUP@@${svc}`, beat }).catch(() => undefined);
    }
  };
  const writer = (async () => {
    while (!stop) {
      const n = seq++;
      const svc = `load-${n % 50}`;
      const res = await nacos(pick().url, "POST", "/nacos/v1/ns/instance", {
        serviceName: svc,
        ip: "203.0.113.7",
        port: String(20_000 + n),
      }).catch(() => undefined);
      if (res?.text === "ok") live.add(`${svc}|${20_000 + n}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const beater = (async () => {
    while (!stop) {
      await beatAll();
      await new Promise((r) => setTimeout(r, 2_000));
    }
  })();
  await new Promise((r) => setTimeout(r, 3_000));
  const victimPort = ports[1]!;
  await running.get(victimPort)!.stop("SIGKILL");
  running.delete(victimPort);
  await new Promise((r) => setTimeout(r, 4_000));
  await start(victimPort);
  await new Promise((r) => setTimeout(r, 3_000));
  stop = true;
  await Promise.all([writer, beater]);
  await beatAll(); // one last round so every live instance exists on its current owner
  assert.ok(live.size > 50, `the load registered instances (${live.size})`);
  await waitUntil(
    () => identical(nodes()),
    60_000,
    () => "all three identical after the crash",
  );
  const services = new Set([...live].map((id) => id.split("|")[0]!));
  for (const n of nodes()) {
    const present = new Set<string>();
    for (const svc of services) {
      const hosts: Array<{ port: number }> = (await nacos(n.url, "GET", "/nacos/v1/ns/instance/list", { serviceName: svc })).json().hosts;
      for (const h of hosts) present.add(`${svc}|${h.port}`);
    }
    assert.deepEqual(
      [...live].filter((id) => !present.has(id)),
      [],
      `no live instance lost on ${n.address}`,
    );
  }
});
