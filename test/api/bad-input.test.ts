/**
 * Every endpoint, every validated parameter: a bad request gets its status and exact message (Nacos 1.4's
 * text where 1.4 has one), leaves the registry exactly as it was, and the server keeps answering.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { call, JAVA_CLIENT, testApp, type TestApp } from "./support.js";

const NS = "/nacos/v1/ns";
const GOOD = { serviceName: "existing", ip: "192.0.2.1", port: "8080" };
const IP = "instance format invalid: Your IP address is spelled incorrectly";
const WEIGHT = "instance format invalid: The weights range from 0.0 to 10000.0";

interface Case {
  readonly method: string;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly status: number;
  readonly message: string | RegExp;
  readonly headers?: Record<string, string>;
}

const without = (o: Record<string, string>, k: string): Record<string, string> =>
  Object.fromEntries(Object.entries(o).filter(([x]) => x !== k));
const c = (
  method: string,
  path: string,
  params: Record<string, string>,
  status: number,
  message: string | RegExp,
  headers?: Record<string, string>,
): Case => (headers === undefined ? { method, path, params, status, message } : { method, path, params, status, message, headers });
/** `PUT /cluster` refusals: each required parameter, each checker field, the bounds. */
function clusterCases(): Case[] {
  const ok = {
    serviceName: "existing",
    clusterName: "DEFAULT",
    checkPort: "80",
    useInstancePort4Check: "true",
    healthChecker: '{"type":"TCP"}',
  };
  const checker = (json: string, message: string | RegExp): Case => c("PUT", "/cluster", { ...ok, healthChecker: json }, 400, message);
  const http = (fields: string): string => `{"type":"HTTP",${fields}}`;
  return [
    ...["clusterName", "checkPort", "useInstancePort4Check", "healthChecker", "serviceName"].map((k) =>
      c("PUT", "/cluster", without(ok, k), 400, `Param '${k}' is required.`),
    ),
    c("PUT", "/cluster", { ...ok, serviceName: "nope" }, 400, "service not found:DEFAULT_GROUP@@nope"),
    c("PUT", "/cluster", { ...ok, clusterName: "a_b" }, 400, "cluster name can only have these characters: 0-9a-zA-Z-, current: a_b"),
    c("PUT", "/cluster", { ...ok, checkPort: "65536" }, 400, "Param 'checkPort' must be an integer in [0, 65535], current: 65536"),
    c("PUT", "/cluster", { ...ok, checkPort: "x" }, 400, 'For input string: "x"'),
    c("PUT", "/cluster", { ...ok, useInstancePort4Check: "yes" }, 400, "Param 'useInstancePort4Check' must be true or false, current: yes"),
    c("PUT", "/cluster", { ...ok, metadata: "a=" }, 400, "metadata format incorrect:a="),
    checker(
      '{"type":"MYSQL","user":"u","pwd":"p","cmd":"select 1"}',
      "health checker type MYSQL is not supported by this server (supported: TCP, HTTP, NONE)",
    ),
    checker('{"type":"UDP"}', `Param 'healthChecker' has an unknown health checker type "UDP" (supported: TCP, HTTP, NONE)`),
    checker("{}", `Param 'healthChecker' has an unknown health checker type undefined (supported: TCP, HTTP, NONE)`),
    checker("TCP", /^Param 'healthChecker' must be JSON like/),
    checker("[]", "Param 'healthChecker' must be a JSON object"),
    checker(`{"type":"TCP","pad":"${"x".repeat(9000)}"}`, "Param 'healthChecker' is longer than 8192 characters"),
    checker(http('"path":"/a b"'), /^health checker path must be at most 1024 printable ASCII characters without blanks/),
    checker(http(`"path":"/${"p".repeat(1024)}"`), /^health checker path must be at most 1024/),
    checker(http('"path":7'), "Param 'healthChecker'.path must be a string"),
    checker(http('"headers":"X-A"'), "health checker header 'X-A' must look like name:value (header name characters, printable value)"),
    checker(http('"headers":"X A:1"'), /^health checker header 'X A:1' must look like name:value/),
    checker(http('"headers":"X-A:a\\r\\nInjected: 1"'), /^health checker header 'X-A:a\r\nInjected: 1' must look like/),
    checker(http(`"headers":"${"X-A:1|".repeat(400)}"`), "health checker headers are longer than 2048 characters"),
    checker(http('"expectedResponseCode":99'), "health checker expectedResponseCode must be an HTTP status in [100, 599], current: 99"),
    checker(http('"expectedResponseCode":200.5'), /expectedResponseCode must be an HTTP status in \[100, 599\], current: 200.5/),
    checker(http('"expectedResponseCode":"abc"'), "Param 'healthChecker'.expectedResponseCode must be a number"),
  ];
}

/** A switch update the operator API refuses with `message`. */
const sw = (entry: string, value: string, message: string | RegExp): Case => c("PUT", "/operator/switches", { entry, value }, 400, message);

const instanceWrites: Case[] = ["POST", "PUT"].flatMap((m) => [
  c(m, "/instance", without(GOOD, "serviceName"), 400, "Param 'serviceName' is required."),
  c(m, "/instance", { ...GOOD, serviceName: "" }, 400, "Param 'serviceName' is required."),
  c(m, "/instance", without(GOOD, "ip"), 400, "Param 'ip' is required."),
  c(m, "/instance", without(GOOD, "port"), 400, "Param 'port' is required."),
  c(m, "/instance", { ...GOOD, port: "abc" }, 400, 'For input string: "abc"'),
  c(m, "/instance", { ...GOOD, port: "70000" }, 400, "Param 'port' must be an integer in [0, 65535], current: 70000"),
  c(m, "/instance", { ...GOOD, port: "-1" }, 400, "Param 'port' must be an integer in [0, 65535], current: -1"),
  c(m, "/instance", { ...GOOD, ip: "1.2.3" }, 400, IP),
  c(m, "/instance", { ...GOOD, ip: "256.1.1.1" }, 400, IP),
  c(m, "/instance", { ...GOOD, ip: "bad host!" }, 400, IP),
  c(m, "/instance", { ...GOOD, weight: "10000.5" }, 400, WEIGHT),
  c(m, "/instance", { ...GOOD, weight: "-1" }, 400, WEIGHT),
  c(m, "/instance", { ...GOOD, weight: "heavy" }, 400, 'For input string: "heavy"'),
  c(m, "/instance", { ...GOOD, metadata: "{bad" }, 400, "metadata format incorrect:{bad"),
  c(m, "/instance", { ...GOOD, metadata: "a=1,b" }, 400, "metadata format incorrect:a=1,b"),
  // Java's split drops trailing empty strings: "a=" is one part, refused by 1.4.
  c(m, "/instance", { ...GOOD, metadata: "a=" }, 400, "metadata format incorrect:a="),
  c(m, "/instance", { ...GOOD, metadata: "a=1,b=" }, 400, "metadata format incorrect:a=1,b="),
  c(m, "/instance", { ...GOOD, metadata: "a==" }, 400, "metadata format incorrect:a=="),
  c(m, "/instance", { ...GOOD, metadata: '{"nested":{"x":1}}' }, 400, 'metadata format incorrect:{"nested":{"x":1}}'),
  c(
    m,
    "/instance",
    { ...GOOD, clusterName: "bad_name" },
    400,
    "cluster name can only have these characters: 0-9a-zA-Z-, current: bad_name",
  ),
  c(m, "/instance", { ...GOOD, cluster: "a b" }, 400, "cluster name can only have these characters: 0-9a-zA-Z-, current: a b"),
  c(m, "/instance", { ...GOOD, healthy: "yes" }, 400, "Param 'healthy' must be true or false, current: yes"),
  c(m, "/instance", { ...GOOD, enable: "maybe" }, 400, "Param 'enable' must be true or false, current: maybe"),
  c(m, "/instance", { ...GOOD, ephemeral: "1" }, 400, "Param 'ephemeral' must be true or false, current: 1"),
  c(m, "/instance", { ...GOOD, serviceName: "@@svc" }, 400, "Param 'serviceName' is illegal, groupName can't be empty"),
  c(
    m,
    "/instance",
    { ...GOOD, serviceName: "g@@" },
    400,
    "Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName'",
  ),
  c(
    m,
    "/instance",
    { ...GOOD, serviceName: "bad name" },
    400,
    "dom name can only have these characters: 0-9a-zA-Z-._:, current: DEFAULT_GROUP@@bad name",
  ),
  c(
    m,
    "/instance",
    { ...GOOD, serviceName: "服务" },
    400,
    "dom name can only have these characters: 0-9a-zA-Z-._:, current: DEFAULT_GROUP@@服务",
  ),
  c(m, "/instance", { ...GOOD, namespaceId: "n".repeat(200) }, 400, "Param 'namespaceId' is longer than 128 characters"),
]);

const CASES: Case[] = [
  ...instanceWrites,
  c(
    "PUT",
    "/instance",
    { ...GOOD, port: "9999" },
    400,
    'instance not exist: {"ip":"192.0.2.1","port":9999,"clusterName":"DEFAULT","ephemeral":true}',
    JAVA_CLIENT,
  ),
  c(
    "PUT",
    "/instance",
    { ...GOOD, serviceName: "nope" },
    400,
    "service not found, namespace: public, service: DEFAULT_GROUP@@nope",
    JAVA_CLIENT,
  ),
  c("DELETE", "/instance", without(GOOD, "ip"), 400, "Param 'ip' is required."),
  c("DELETE", "/instance", { ...GOOD, port: "x" }, 400, 'For input string: "x"'),
  c("DELETE", "/instance", { ...GOOD, ephemeral: "nah" }, 400, "Param 'ephemeral' must be true or false, current: nah"),
  c("PATCH", "/instance", { ...GOOD, port: "9999" }, 400, "instance not found"),
  c("PATCH", "/instance", { ...GOOD, weight: "20000" }, 400, WEIGHT),
  c("PATCH", "/instance", { ...GOOD, metadata: "x" }, 400, "metadata format incorrect:x"),
  c("GET", "/instance", without(GOOD, "port"), 400, "Param 'port' is required."),
  c("GET", "/instance", { ...GOOD, serviceName: "nope" }, 404, "no service DEFAULT_GROUP@@nope found!"),
  c("GET", "/instance", { ...GOOD, clusterName: "OTHER" }, 404, "no ips found for cluster OTHER in service DEFAULT_GROUP@@existing"),
  c("GET", "/instance", { ...GOOD, ip: "192.0.2.99" }, 404, "no matched ip found!"),
  c("GET", "/instance/list", {}, 400, "Param 'serviceName' is required."),
  c("GET", "/instance/list", { serviceName: "existing", udpPort: "abc" }, 400, 'For input string: "abc"'),
  c(
    "GET",
    "/instance/list",
    { serviceName: "existing", healthyOnly: "sure" },
    400,
    "Param 'healthyOnly' must be true or false, current: sure",
  ),
  c("GET", "/instance/list", { serviceName: "existing", udpPort: "5000", clientIP: "not an ip!" }, 400, IP, JAVA_CLIENT),
  c("PUT", "/instance/beat", { serviceName: "existing", beat: "{bad" }, 400, "Param 'beat' must be a JSON object (RsInfo), current: {bad"),
  c(
    "PUT",
    "/instance/beat",
    { serviceName: "existing", beat: '{"ip":"192.0.2.1","port":99999}' },
    400,
    "Param 'port' must be an integer in [0, 65535], current: 99999",
  ),
  c("PUT", "/instance/beat", { serviceName: "existing", beat: '{"port":1}' }, 400, IP),
  c("PUT", "/instance/beat", { serviceName: "existing", beat: '{"ip":"192.0.2.1","port":1,"weight":-2}' }, 400, WEIGHT),
  c(
    "PUT",
    "/instance/beat",
    { serviceName: "existing", beat: '{"ip":"192.0.2.1","port":1,"cluster":"x_y"}' },
    400,
    "cluster name can only have these characters: 0-9a-zA-Z-, current: x_y",
  ),
  // Every RsInfo field is bound as 1.4's Jackson binds it: no array or object where a scalar belongs.
  ...(
    [
      ['{"ip":["192.0.2.10"],"port":8080}', "Param 'beat.ip' must be a string, current: [\"192.0.2.10\"]"],
      ['{"ip":{"v":"192.0.2.10"},"port":8080}', 'Param \'beat.ip\' must be a string, current: {"v":"192.0.2.10"}'],
      ['{"ip":"192.0.2.10","port":[8080]}', "Param 'beat.port' must be an integer, current: [8080]"],
      ['{"ip":"192.0.2.10","port":true}', "Param 'beat.port' must be an integer, current: true"],
      ['{"ip":"192.0.2.10","port":"80x"}', 'For input string: "80x"'],
      ['{"ip":"192.0.2.10","port":4294975488}', "Param 'beat.port' must be an integer, current: 4294975488"],
      ['{"ip":"192.0.2.10","port":8080,"cluster":["DEFAULT"]}', "Param 'beat.cluster' must be a string, current: [\"DEFAULT\"]"],
      ['{"ip":"192.0.2.10","port":8080,"weight":[1]}', "Param 'beat.weight' must be a number, current: [1]"],
      ['{"ip":"192.0.2.10","port":8080,"weight":true}', "Param 'beat.weight' must be a number, current: true"],
      ['{"ip":"192.0.2.10","port":8080,"ephemeral":[true]}', "Param 'beat.ephemeral' must be true or false, current: [true]"],
      ['{"ip":"192.0.2.10","port":8080,"ephemeral":"yes"}', `Param 'beat.ephemeral' must be true or false, current: "yes"`],
      ['{"ip":"192.0.2.10","port":8080,"metadata":"a=b"}', "Param 'beat.metadata' must be an object of strings, current: \"a=b\""],
      ['{"ip":"192.0.2.10","port":8080,"metadata":{"k":["v"]}}', "Param 'beat.metadata.k' must be a string, current: [\"v\"]"],
      ['{"ip":"192.0.2.10","port":8080,"serviceName":["x"]}', "Param 'beat.serviceName' must be a string, current: [\"x\"]"],
      ['{"ip":"192.0.2.10","port":8080,"load":"heavy"}', 'For input string: "heavy"'],
      ['{"ip":"192.0.2.10","port":8080,"qps":{}}', "Param 'beat.qps' must be a number, current: {}"],
    ] as const
  ).map(([beat, message]) => c("PUT", "/instance/beat", { serviceName: "existing", beat }, 400, message)),
  c("PUT", "/instance/beat", { serviceName: "existing", port: "1" }, 400, "Param 'ip' is required."),
  c("PUT", "/instance/beat", { ...GOOD, port: "p" }, 400, 'For input string: "p"'),
  c("GET", "/instance/statuses", {}, 400, "Param 'key' is required."),
  c("GET", "/instance/statuses", { key: "public##DEFAULT_GROUP@@nope" }, 404, "service: public##DEFAULT_GROUP@@nope not found."),
  ...["PUT", "DELETE"].flatMap((m) => [
    c(m, "/instance/metadata/batch", { serviceName: "existing", consistencyType: "ephemeral" }, 400, "Param 'metadata' is required."),
    c(
      m,
      "/instance/metadata/batch",
      { serviceName: "existing", metadata: "k=v" },
      400,
      "Param 'instances' or 'consistencyType' is required.",
    ),
    c(
      m,
      "/instance/metadata/batch",
      { serviceName: "existing", metadata: "k=v", instances: "nope" },
      400,
      "Param 'instances' must be a JSON list of {ip, port, clusterName, ephemeral}, current: nope",
    ),
    c(
      m,
      "/instance/metadata/batch",
      { serviceName: "existing", metadata: "k=v", instances: '[{"ip":"192.0.2.1","port":"x"}]' },
      400,
      'For input string: "x"',
    ),
    ...(
      [
        ['[{"ip":["192.0.2.1"],"port":8080}]', "Param 'instances[0].ip' must be a string, current: [\"192.0.2.1\"]"],
        ['[{"ip":"192.0.2.1","port":8080,"ephemeral":[true]}]', "Param 'instances[0].ephemeral' must be true or false, current: [true]"],
        ['[{"ip":"192.0.2.1","port":8080,"clusterName":{}}]', "Param 'instances[0].clusterName' must be a string, current: {}"],
        ['[{"ip":"192.0.2.1","port":8080,"weight":"heavy"}]', 'For input string: "heavy"'],
        ['[{"ip":"192.0.2.1","port":8080,"metadata":[]}]', "Param 'instances[0].metadata' must be an object of strings, current: []"],
        ['[{"ip":"192.0.2.1","port":8080},null]', "Param 'instances[1]' must be an object, current: null"],
      ] as const
    ).map(([instances, message]) =>
      c(m, "/instance/metadata/batch", { serviceName: "existing", metadata: "k=v", instances }, 400, message),
    ),
    c(
      m,
      "/instance/metadata/batch",
      { serviceName: "existing", metadata: "k=v", consistencyType: "sometimes" },
      400,
      "Param 'consistencyType' must be ephemeral or persist, current: sometimes",
    ),
    c(
      m,
      "/instance/metadata/batch",
      { serviceName: "nope", metadata: "k=v", consistencyType: "ephemeral" },
      400,
      "service not found, namespace: public, service: DEFAULT_GROUP@@nope",
    ),
  ]),
  c("POST", "/service", { serviceName: "existing" }, 400, "specified service already exists, serviceName : DEFAULT_GROUP@@existing"),
  c("POST", "/service", {}, 400, "Param 'serviceName' is required."),
  c("POST", "/service", { serviceName: "new", protectThreshold: "half" }, 400, 'For input string: "half"'),
  c("POST", "/service", { serviceName: "new", selector: "{" }, 400, /^Param 'selector' must be JSON like/),
  c("POST", "/service", { serviceName: "new", selector: '{"type":"magic"}' }, 400, /^Param 'selector' has an unsupported type/),
  c("POST", "/service", { serviceName: "new", metadata: "=v" }, 400, "metadata format incorrect:=v"),
  c("PUT", "/service", { serviceName: "existing" }, 400, "Param 'protectThreshold' is required."),
  c("PUT", "/service", { serviceName: "nope", protectThreshold: "0.5" }, 400, "service DEFAULT_GROUP@@nope not found!"),
  c("DELETE", "/service", { serviceName: "nope" }, 400, "specified service not exist, serviceName : DEFAULT_GROUP@@nope"),
  c("GET", "/service", { serviceName: "nope" }, 404, "service DEFAULT_GROUP@@nope is not found!"),
  c("GET", "/service/list", { pageSize: "10" }, 400, "Param 'pageNo' is required."),
  c("GET", "/service/list", { pageNo: "0", pageSize: "10" }, 400, "Param 'pageNo' must be a positive integer, current: 0"),
  c("GET", "/service/list", { pageNo: "1", pageSize: "ten" }, 400, 'For input string: "ten"'),
  c(
    "GET",
    "/service/names",
    { expr: "(" },
    400,
    /^Param 'expr' is not a valid regular expression that can be matched in linear time .*, current: \($/,
  ),
  c("GET", "/service/names", { expr: "(a)\\1" }, 400, /^Param 'expr' is not a valid regular expression that can be matched in linear time/),
  c("GET", "/service/names", { expr: "a".repeat(257) }, 400, "Param 'expr' is longer than 256 characters"),
  c(
    "GET",
    "/service/subscribers",
    { serviceName: "existing", pageSize: "0" },
    400,
    "Param 'pageSize' must be a positive integer, current: 0",
  ),
  c("PUT", "/operator/switches", { value: "1" }, 400, "Param 'entry' is required."),
  c("PUT", "/operator/switches", { entry: "pushEnabled" }, 400, "Param 'value' is required."),
  sw("nope", "1", /^update entry not found: nope, allowed: clientBeatInterval, /),
  sw("pushEnabled", "yes", "Param 'value' of entry 'pushEnabled' must be true or false, got: yes"),
  sw("clientBeatInterval", "-5", "Param 'value' of entry 'clientBeatInterval' must be in [1000, 10000], got: -5"),
  // Validated as 1.4's SwitchManager does (a long where it parses one, its minimums and messages), plus sane maximums.
  sw("clientBeatInterval", "1000000000000", "Param 'value' of entry 'clientBeatInterval' must be in [1000, 10000], got: 1000000000000"),
  sw("clientBeatInterval", "1e12", 'For input string: "1e12"'),
  sw("clientBeatInterval", "1.5", 'For input string: "1.5"'),
  sw("clientBeatInterval", "99999999999999999999", 'For input string: "99999999999999999999"'),
  sw("pushCacheMillis", "5", "min cache time for http or tcp is too small(<10000)"),
  sw("defaultCacheMillis", "5", "min default cache time  is too small(<1000)"),
  sw("serviceStatusSynchronizationPeriodMillis", "1", "serviceStatusSynchronizationPeriodMillis is too small(<5000)"),
  sw("serverStatusSynchronizationPeriodMillis", "1", "serverStatusSynchronizationPeriodMillis is too small(<15000)"),
  sw("pushCacheMillis", "86400000", "Param 'value' of entry 'pushCacheMillis' must be in [10000, 3600000], got: 86400000"),
  sw("healthCheckTimes", "3000000000", 'For input string: "3000000000"'),
  sw("distroThreshold", "0", "distroThreshold can not be zero or negative: 0"),
  sw("overriddenServerStatus", "SLEEPY", /^Param 'value' must be one of UP, DOWN/),
  c("GET", "/operator/distro/server", {}, 400, "Param 'serviceName' is required."),
  c("PUT", "/health/instance", GOOD, 400, "Param 'healthy' is required."),
  c("PUT", "/health/instance", { ...GOOD, healthy: "false" }, 400, "health check is still working, service: DEFAULT_GROUP@@existing"),
  c(
    "PUT",
    "/health",
    { ...GOOD, serviceName: "nope", healthy: "true" },
    400,
    "service not found, namespace: public, service: DEFAULT_GROUP@@nope",
  ),
  ...clusterCases(),
  c("PUT", "/health/instance", { ...GOOD, valid: "maybe" }, 400, "Param 'valid' must be true or false, current: maybe"),
  c("PUT", "/health", { ...GOOD, healthy: "false", port: "66000" }, 400, "Param 'port' must be an integer in [0, 65535], current: 66000"),
  c("GET", "/nope", {}, 501, "no such api:GET:/nacos/v1/ns/nope"),
  c("DELETE", "/instance/list", {}, 501, "no such api:DELETE:/nacos/v1/ns/instance/list"),
];

let t: TestApp;

before(async () => {
  t = await testApp();
  assert.equal((await call(t.app, "POST", `${NS}/instance`, GOOD)).text, "ok");
});

async function stillServing(): Promise<void> {
  const res = await call(t.app, "GET", `${NS}/instance/list`, { serviceName: "existing" });
  assert.equal(res.status, 200);
  assert.equal(res.json().hosts.length, 1);
}

test(`${CASES.length} bad requests: status, message, nothing changed, still serving`, async () => {
  const failures: string[] = [];
  for (const k of CASES) {
    const before = t.digests();
    const switchesBefore = JSON.stringify(t.node.switches);
    const res = await call(t.app, k.method, `${NS}${k.path}`, k.params, k.headers ?? {});
    const messageOk = typeof k.message === "string" ? res.text === k.message : k.message.test(res.text);
    if (res.status !== k.status || !messageOk) {
      failures.push(
        `${k.method} ${k.path} ${JSON.stringify(k.params)}: got ${res.status} ${JSON.stringify(res.text)}, want ${k.status} ${String(k.message)}`,
      );
    }
    if (t.digests() !== before) failures.push(`${k.method} ${k.path} ${JSON.stringify(k.params)} changed the registry`);
    if (JSON.stringify(t.node.switches) !== switchesBefore)
      failures.push(`${k.method} ${k.path} ${JSON.stringify(k.params)} changed the switches`);
    await stillServing();
  }
  assert.deepEqual(failures, []);
});

test("the same validation applies under /v1/ns and to form bodies", async () => {
  const bare = await call(t.app, "POST", "/v1/ns/instance", { ...GOOD, weight: "-3" });
  assert.deepEqual([bare.status, bare.text], [400, WEIGHT]);
  const form = await t.app.inject({
    method: "POST",
    url: `${NS}/instance`,
    headers: { "content-type": "application/x-www-form-urlencoded;charset=UTF-8" },
    payload: "serviceName=existing&ip=192.0.2.1&port=8080&metadata=%7Bbad",
  });
  assert.deepEqual([form.statusCode, form.body], [400, "metadata format incorrect:{bad"]);
});

test("oversized bodies get 413, unknown paths outside the naming API 404, odd content types are not errors", async () => {
  const before = t.digests();
  const big = await t.app.inject({
    method: "POST",
    url: `${NS}/instance`,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: `serviceName=big&ip=192.0.2.1&port=1&metadata=${"x".repeat(70 * 1024)}`,
  });
  assert.equal(big.statusCode, 413);
  assert.match(big.body, /request body is larger than the limit of 65536 bytes/);
  assert.equal(t.digests(), before);
  assert.equal((await call(t.app, "GET", "/nope")).status, 404);
  const odd = await t.app.inject({
    method: "POST",
    url: `${NS}/instance?serviceName=odd&ip=192.0.2.5&port=1`,
    headers: { "content-type": "application/octet-stream" },
    payload: Buffer.from([0, 1, 2]),
  });
  assert.deepEqual([odd.statusCode, odd.body], [200, "ok"]);
});
