/**
 * What waits for the disk, seen from HTTP: a persistent registration, a switch change and a namespace are
 * answered only once their record is durable (a store whose syncs are held back holds the answer back), an
 * ephemeral registration into an existing service does not wait; a data directory that failed turns such writes into a 500 naming the
 * failure and readiness into a 503 saying so.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createHttpApp } from "../../src/api/app.js";
import { SimDisk } from "../../src/sim/sim-disk.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";
import { nodeContext, standaloneNode } from "../support/node-context.js";
import { call } from "./support.js";
import { settled } from "../support/settled.js";

/** A disk whose `durable()` waits until the test releases it (or refuses, once `failure` is set). */
class HeldDisk extends SimDisk {
  failure: string | undefined;
  private gates: Array<() => void> = [];

  override durable(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(new Error(this.failure));
    return new Promise((resolve) => this.gates.push(resolve));
  }

  get waiting(): number {
    return this.gates.length;
  }

  release(): void {
    for (const go of this.gates.splice(0)) go();
  }
}

async function appOn(disk: HeldDisk) {
  const node = standaloneNode(new VirtualScheduler(1), "127.0.0.1:8848", { store: disk });
  await node.start();
  const app = createHttpApp(nodeContext(node), {});
  await app.ready();
  return app;
}

interface Write {
  readonly what: string;
  readonly method: string;
  readonly path: string;
  readonly params: Record<string, string>;
}

const WRITES: readonly Write[] = [
  {
    what: "a persistent registration",
    method: "POST",
    path: "/nacos/v1/ns/instance",
    params: { serviceName: "orders", ip: "192.0.2.10", port: "8080", ephemeral: "false" },
  },
  {
    what: "a switch change",
    method: "PUT",
    path: "/nacos/v1/ns/operator/switches",
    params: { entry: "clientBeatInterval", value: "7000" },
  },
  {
    what: "a namespace",
    method: "POST",
    path: "/nacos/v1/console/namespaces",
    params: { customNamespaceId: "dev", namespaceName: "Development" },
  },
];

for (const { what, method, path, params } of WRITES) {
  test(`${what} is answered only once its record is durable`, async () => {
    const disk = new HeldDisk();
    const app = await appOn(disk);
    const answer = call(app, method, path, params);
    assert.equal(await settled(answer), false, "no answer while the sync is held back");
    assert.equal(disk.waiting, 1, "the write waits for the disk");
    disk.release();
    const res = await answer;
    assert.equal(res.status, 200, res.text);
  });
}

test("an ephemeral registration into an existing service does not wait for the disk", async () => {
  const disk = new HeldDisk();
  const app = await appOn(disk);
  const created = call(app, "POST", "/nacos/v1/ns/service", { serviceName: "orders" }); // its settings are kept
  assert.equal(await settled(created), false);
  disk.release();
  assert.equal((await created).status, 200);
  const res = await call(app, "POST", "/nacos/v1/ns/instance", { serviceName: "orders", ip: "192.0.2.10", port: "8080" });
  assert.equal(res.status, 200);
  assert.equal(disk.waiting, 0);
});

test("a data directory that failed: writes that need it get a 500 naming the failure, readiness a 503 saying so", async () => {
  const disk = new HeldDisk();
  const app = await appOn(disk);
  assert.equal((await call(app, "GET", "/nacos/v1/console/health/readiness")).status, 200);
  disk.failure = "syncing /data/naming.log failed (EIO)";
  for (const { what, method, path, params } of WRITES) {
    const res = await call(app, method, path, params);
    assert.equal(res.status, 500, what);
    assert.match(res.text, /EIO/, what);
  }
  const readiness = await call(app, "GET", "/nacos/v1/console/health/readiness");
  assert.equal(readiness.status, 503);
  assert.match(readiness.text, /data directory failed: syncing \/data\/naming\.log failed \(EIO\)/);
});
