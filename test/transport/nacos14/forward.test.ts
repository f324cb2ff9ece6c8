/** forward(): every ClientWrite becomes the client request 1.4's DistroFilter would proxy, and its answer an outcome. */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { ServiceRef } from "../../../src/core/naming.js";
import type { ClientWrite, InstanceSpec } from "../../../src/core/ops.js";
import { Nacos14Transport } from "../../../src/transport/nacos14/client.js";
import { PeerError } from "../../../src/node/ports.js";
import { stubServer, type RecordedRequest, type StubAnswer } from "./support.js";

const service: ServiceRef = { namespaceId: "dev", groupedName: "g1@@orders" };
const spec: InstanceSpec = {
  ip: "192.0.2.10",
  port: 8080,
  clusterName: "c1",
  weight: 2.5,
  healthy: true,
  enabled: false,
  ephemeral: true,
  metadata: { zone: "a" },
  app: "shop",
};
const address = { ip: "192.0.2.10", port: 8080, clusterName: "c1" };
const base = { namespaceId: "dev", serviceName: "g1@@orders" };
const where = { ip: "192.0.2.10", port: "8080", clusterName: "c1" };
const instanceParams = {
  ...base,
  ...where,
  weight: "2.5",
  healthy: "true",
  enabled: "false",
  ephemeral: "true",
  metadata: '{"zone":"a"}',
  app: "shop",
};

const cases: ReadonlyArray<{ write: ClientWrite; method: string; path: string; query: Record<string, string> }> = [
  { write: { type: "register", service, instance: spec }, method: "POST", path: "/nacos/v1/ns/instance", query: instanceParams },
  {
    write: { type: "update", service, instance: spec, mustExist: true },
    method: "PUT",
    path: "/nacos/v1/ns/instance",
    query: instanceParams,
  },
  {
    write: { type: "patch", service, address, patch: { weight: 3, metadata: { zone: "b" } } },
    method: "PATCH",
    path: "/nacos/v1/ns/instance",
    query: { ...base, ...where, weight: "3", metadata: '{"zone":"b"}' },
  },
  {
    write: { type: "deregister", service, address, ephemeral: false },
    method: "DELETE",
    path: "/nacos/v1/ns/instance",
    query: { ...base, ...where, ephemeral: "false" },
  },
  {
    write: { type: "beat", service, address, beat: undefined },
    method: "PUT",
    path: "/nacos/v1/ns/instance/beat",
    query: { ...base, ...where },
  },
  {
    write: { type: "beat", service, address, beat: { ...address, weight: 2.5, ephemeral: true, metadata: { zone: "a" } } },
    method: "PUT",
    path: "/nacos/v1/ns/instance/beat",
    query: {
      ...base,
      ...where,
      beat: '{"ip":"192.0.2.10","port":8080,"serviceName":"g1@@orders","cluster":"c1","weight":2.5,"ephemeral":true,"metadata":{"zone":"a"}}',
    },
  },
  {
    write: { type: "setHealth", service, address, healthy: false },
    method: "PUT",
    path: "/nacos/v1/ns/health/instance",
    query: { ...base, ...where, healthy: "false" },
  },
  {
    write: { type: "updateMetadata", service, remove: false, metadata: { k: "v" }, targets: [{ ...address, ephemeral: true }] },
    method: "PUT",
    path: "/nacos/v1/ns/instance/metadata/batch",
    query: { ...base, metadata: '{"k":"v"}', instances: '[{"ip":"192.0.2.10","port":8080,"clusterName":"c1","ephemeral":true}]' },
  },
  {
    write: { type: "updateMetadata", service, remove: true, metadata: { k: "" }, targets: "persist" },
    method: "DELETE",
    path: "/nacos/v1/ns/instance/metadata/batch",
    query: { ...base, metadata: '{"k":""}', consistencyType: "persist" },
  },
  {
    write: {
      type: "createService",
      service,
      spec: { protectThreshold: 0.5, metadata: { a: "1" }, selector: { type: "label", expression: "x = y" } },
    },
    method: "POST",
    path: "/nacos/v1/ns/service",
    query: { ...base, protectThreshold: "0.5", metadata: '{"a":"1"}', selector: '{"type":"label","expression":"x = y"}' },
  },
  {
    write: { type: "updateService", service, spec: { protectThreshold: 0, metadata: {}, selector: { type: "none" } } },
    method: "PUT",
    path: "/nacos/v1/ns/service",
    query: { ...base, protectThreshold: "0", metadata: "{}", selector: '{"type":"none"}' },
  },
  { write: { type: "deleteService", service }, method: "DELETE", path: "/nacos/v1/ns/service", query: base },
  {
    write: {
      type: "updateCluster",
      service,
      clusterName: "c1",
      settings: {
        healthChecker: { type: "HTTP", path: "/ok", headers: "X-A:1", expectedResponseCode: 204 },
        checkPort: 8081,
        useInstancePort4Check: false,
        metadata: { k: "v" },
      },
    },
    method: "PUT",
    path: "/nacos/v1/ns/cluster",
    query: {
      ...base,
      clusterName: "c1",
      checkPort: "8081",
      useInstancePort4Check: "false",
      healthChecker: '{"type":"HTTP","path":"/ok","headers":"X-A:1","expectedResponseCode":204}',
      metadata: '{"k":"v"}',
    },
  },
];

const closers: Array<() => unknown> = [];
after(async () => {
  for (const close of closers) await close();
});

async function owner(answer: StubAnswer): Promise<{ address: string; requests: RecordedRequest[] }> {
  const s = await stubServer(answer);
  closers.push(() => s.app.close());
  return s;
}

const transport = new Nacos14Transport({
  self: "127.0.0.1:8850",
  version: "0.1.0",
  timeoutMs: 2000,
  snapshotChunkBytes: 1024,
  maxBodyBytes: 1 << 20,
});
closers.push(() => transport.close());

const answerFor = (req: RecordedRequest): ReturnType<StubAnswer> => {
  if (req.path.endsWith("/beat"))
    return { body: '{"clientBeatInterval":5000,"code":10200,"lightBeatEnabled":true}', type: "application/json" };
  if (req.path.endsWith("/metadata/batch"))
    return { body: '{"updated":["192.0.2.10:8080:unknown:c1:ephemeral"]}', type: "application/json" };
  return { body: "ok" };
};

test("every write variant is proxied as its client request, marked as coming from a server", async () => {
  const stub = await owner(answerFor);
  for (const { write, method, path, query } of cases) {
    await transport.forward(stub.address, write);
    const req = stub.requests.at(-1)!;
    const label = `${write.type} ${method}`;
    assert.equal(req.method, method, label);
    assert.equal(req.path, path, label);
    assert.deepEqual(req.query, query, label);
    assert.equal(req.headers["user-agent"], "Nacos-Server:0.1.0", label);
    assert.equal(req.body, "", `${label}: parameters travel in the query string`);
  }
  assert.equal(stub.requests.length, cases.length);
});

test("answers become outcomes: ok, beat result, updated list, and relayed refusals", async () => {
  const stub = await owner(answerFor);
  assert.deepEqual(await transport.forward(stub.address, cases[0]!.write), { ok: true, result: { type: "ok" } });
  assert.deepEqual(await transport.forward(stub.address, cases[4]!.write), {
    ok: true,
    result: { type: "beat", code: 10200, clientBeatInterval: 5000, lightBeatEnabled: true },
  });
  assert.deepEqual(await transport.forward(stub.address, cases[7]!.write), {
    ok: true,
    result: { type: "updated", updated: ["192.0.2.10:8080:unknown:c1:ephemeral"] },
  });

  const notFound = await owner(() => ({ body: '{"clientBeatInterval":5000,"code":20404}', type: "application/json" }));
  assert.deepEqual(await transport.forward(notFound.address, cases[4]!.write), {
    ok: true,
    result: { type: "beat", code: 20404, clientBeatInterval: 5000 },
  });

  const refusing = await owner(() => ({ status: 400, body: "receive invalid redirect request from peer 127.0.0.1" }));
  assert.deepEqual(await transport.forward(refusing.address, cases[0]!.write), {
    ok: false,
    status: 400,
    message: "receive invalid redirect request from peer 127.0.0.1",
  });
  const down = await owner(() => ({ status: 503, body: "server is DOWNnow, please try again later!" }));
  assert.deepEqual(await transport.forward(down.address, cases[3]!.write), {
    ok: false,
    status: 503,
    message: "server is DOWNnow, please try again later!",
  });

  const confused = await owner(() => ({ body: "<html>" }));
  await assert.rejects(
    transport.forward(confused.address, cases[0]!.write),
    (err: unknown) => err instanceof PeerError && err.kind === "unavailable",
  );
});
