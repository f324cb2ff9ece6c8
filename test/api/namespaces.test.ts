import assert from "node:assert/strict";
import { test } from "node:test";
import { authApp, call, testApp, tokenOf, ADMIN } from "./support.js";

const PATHS = ["/nacos/v1/console/namespaces", "/v1/console/namespaces"];
const PUBLIC_ENTRY = { namespace: "", namespaceShowName: "public", quota: 200, configCount: 0, type: 0 };

/** The namespace table as the node holds it: a refused request must leave it as it was. */
const tableOf = (t: Awaited<ReturnType<typeof testApp>>) => JSON.stringify(t.node.tables.entries("namespaces"));

for (const path of PATHS) {
  test(`${path}: create, list, show, update, delete as 1.4 answers them`, async () => {
    const t = await testApp();
    const { app } = t;
    assert.deepEqual((await call(app, "GET", path)).json(), { code: 200, message: null, data: [PUBLIC_ENTRY] });

    const created = await call(app, "POST", path, { customNamespaceId: "dev", namespaceName: "Development", namespaceDesc: "for devs" });
    assert.equal(created.status, 200);
    assert.equal(created.json(), true);
    const generated = await call(app, "POST", path, { customNamespaceId: "", namespaceName: "Anonymous" });
    assert.equal(generated.json(), true);

    const list = (await call(app, "GET", path)).json();
    assert.equal(list.data.length, 3);
    assert.deepEqual(list.data[0], PUBLIC_ENTRY);
    const uuid = list.data.find((n: { namespaceShowName: string }) => n.namespaceShowName === "Anonymous").namespace;
    assert.match(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.ok(
      list.data.some(
        (n: object) =>
          JSON.stringify(n) === JSON.stringify({ ...PUBLIC_ENTRY, namespace: "dev", namespaceShowName: "Development", type: 2 }),
      ),
    );

    assert.deepEqual((await call(app, "GET", path, { show: "all", namespaceId: "dev" })).json(), {
      namespace: "dev",
      namespaceShowName: "Development",
      quota: 200,
      configCount: 0,
      type: 2,
      namespaceDesc: "for devs",
    });
    assert.deepEqual((await call(app, "GET", path, { show: "all", namespaceId: "" })).json(), {
      ...PUBLIC_ENTRY,
      namespaceShowName: "Public",
      namespaceDesc: "Public Namespace",
    });
    assert.equal((await call(app, "GET", path, { checkNamespaceIdExist: "true", customNamespaceId: "dev" })).json(), true);
    assert.equal((await call(app, "GET", path, { checkNamespaceIdExist: "true", customNamespaceId: "nope" })).json(), false);

    assert.equal((await call(app, "PUT", path, { namespace: "dev", namespaceShowName: "Dev" })).json(), true);
    const shown = (await call(app, "GET", path, { show: "all", namespaceId: "dev" })).json();
    assert.deepEqual([shown.namespaceShowName, shown.namespaceDesc], ["Dev", null], "an update replaces the description too");

    assert.equal((await call(app, "DELETE", path, { namespaceId: "dev" })).json(), true);
    assert.equal((await call(app, "DELETE", path, { namespaceId: "dev" })).json(), true, "deleting again is no error");
    assert.deepEqual(
      (await call(app, "GET", path)).json().data.map((n: { namespace: string }) => n.namespace),
      ["", uuid],
    );
  });
}

test("namespaces only name things: instances register into any namespace, and deleting one leaves its services", async () => {
  const t = await testApp();
  const { app } = t;
  const path = PATHS[0]!;
  const register = { serviceName: "orders", ip: "192.0.2.1", port: "80", namespaceId: "prod" };
  assert.equal((await call(app, "POST", "/nacos/v1/ns/instance", register)).text, "ok", "into a namespace nobody created");
  assert.deepEqual((await call(app, "GET", path)).json().data, [PUBLIC_ENTRY], "1.4 lists created namespaces only");
  await call(app, "POST", path, { customNamespaceId: "prod", namespaceName: "Production" });
  await call(app, "DELETE", path, { namespaceId: "prod" });
  const hosts = (await call(app, "GET", "/nacos/v1/ns/instance/list", { serviceName: "orders", namespaceId: "prod" })).json().hosts;
  assert.equal(hosts.length, 1);
});

test("bad input is refused with 400 (or 404) and a message, and changes nothing", async () => {
  const t = await testApp();
  const { app } = t;
  const path = PATHS[0]!;
  await call(app, "POST", path, { customNamespaceId: "dev", namespaceName: "Development" });
  const before = tableOf(t);
  const cases: Array<[string, Record<string, string>, number, string]> = [
    ["POST", { namespaceName: "x", customNamespaceId: "a b" }, 400, "namespaceId [a b] mismatch the pattern"],
    ["POST", { namespaceName: "x", customNamespaceId: "ns/1" }, 400, "namespaceId [ns/1] mismatch the pattern"],
    ["POST", { namespaceName: "x", customNamespaceId: "n".repeat(129) }, 400, "too long namespaceId, over 128"],
    ["POST", { namespaceName: "x", customNamespaceId: "dev" }, 400, "the namespaceId is existed, namespaceId: dev"],
    ["POST", { namespaceName: "x", customNamespaceId: "public" }, 400, "the namespaceId is existed, namespaceId: public"],
    ["POST", { customNamespaceId: "new" }, 400, "Param 'namespaceName' is required."],
    ["POST", { customNamespaceId: "new", namespaceName: "n".repeat(129) }, 400, "too long namespaceName, over 128"],
    ["POST", { customNamespaceId: "new", namespaceName: "x", namespaceDesc: "d".repeat(257) }, 400, "too long namespaceDesc, over 256"],
    ["PUT", { namespace: "nope", namespaceShowName: "x" }, 404, "namespaceId [ nope ] not exist"],
    ["PUT", { namespace: "public", namespaceShowName: "x" }, 400, "the public namespace cannot be changed"],
    ["PUT", { namespace: "dev" }, 400, "Param 'namespaceShowName' is required."],
    ["PUT", { namespace: "dev", namespaceShowName: "x", namespaceDesc: "d".repeat(257) }, 400, "too long namespaceDesc, over 256"],
    ["DELETE", {}, 400, "Param 'namespaceId' is required."],
    ["DELETE", { namespaceId: "public" }, 400, "the public namespace cannot be deleted"],
    ["DELETE", { namespaceId: "" }, 400, "the public namespace cannot be deleted"],
    ["GET", { show: "all", namespaceId: "nope" }, 404, "namespaceId [ nope ] not exist"],
    ["GET", { show: "all" }, 400, "Param 'namespaceId' is required."],
  ];
  for (const [method, params, status, message] of cases) {
    const res = await call(app, method, path, params);
    assert.deepEqual([res.status, res.text], [status, message], `${method} ${JSON.stringify(params)}`);
  }
  assert.equal(tableOf(t), before, "nothing changed");
});

test("an update that changes nothing writes nothing; a table row nobody can read is no namespace", async () => {
  const t = await testApp();
  const { app, node } = t;
  const path = PATHS[0]!;
  await call(app, "POST", path, { customNamespaceId: "dev", namespaceName: "Development", namespaceDesc: "d" });
  const rowsBefore = JSON.stringify(node.tables.all());
  assert.equal((await call(app, "PUT", path, { namespace: "dev", namespaceShowName: "Development", namespaceDesc: "d" })).json(), true);
  assert.equal(JSON.stringify(node.tables.all()), rowsBefore, "no new version of the row");

  await node.setTableRow("namespaces", "broken", "not json");
  assert.deepEqual(
    (await call(app, "GET", path)).json().data.map((n: { namespace: string }) => n.namespace),
    ["", "dev"],
  );
});

test("anonymous callers create at most 20 namespaces at once, then one a second; an administrator is not limited", async () => {
  const t = await testApp();
  const path = PATHS[0]!;
  const create = (app: typeof t.app, id: string, extra: Record<string, string> = {}) =>
    call(app, "POST", path, { customNamespaceId: id, namespaceName: id, ...extra });
  const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => create(t.app, `ns-${i}`)));
  assert.equal(answers.filter((a) => a.status === 200).length, 20);
  const refused = answers.filter((a) => a.status !== 200);
  assert.ok(refused.every((a) => a.status === 429 && a.text === "too many namespaces created without signing in, try again in 1 s"));
  assert.equal(t.node.tables.entries("namespaces").length, 20, "a refused creation wrote nothing");
  await t.scheduler.advance(5_000);
  const later = await Promise.all(Array.from({ length: 10 }, (_, i) => create(t.app, `later-${i}`)));
  assert.equal(later.filter((a) => a.status === 200).length, 5, "five seconds earn five");

  const secured = await authApp();
  const as = { accessToken: await tokenOf(secured.app, ADMIN) };
  const admin = await Promise.all(Array.from({ length: 50 }, (_, i) => create(secured.app, `admin-${i}`, as)));
  assert.deepEqual(
    admin.filter((a) => a.status !== 200),
    [],
  );
});
