/**
 * The reference every HTTP figure is measured against in the same run: the least a fastify server (the same
 * fastify as ts-nacos) must do to serve the same requests. It keeps instances in plain Maps, answers a register
 * or deregister with "ok", and answers instance/list with an equivalent 1.4-shaped answer, either serialized per
 * request (JSON.stringify, /nacos/v1/ns/instance/list) or from a string cached until the service changes
 * (/bench/cached/instance/list). No replication, no versions, no validation beyond the port: a floor, not a rival.
 *
 *   node bench/reference/server.mjs --port 18848
 */
import Fastify from "fastify";

const port = Number(process.argv[process.argv.indexOf("--port") + 1]);
if (!Number.isInteger(port) || port <= 0) throw new Error("usage: server.mjs --port <port>");

/** @type {Map<string, {instances: Map<string, object>, cached: string | undefined}>} */
const services = new Map();

function serviceOf(name) {
  let s = services.get(name);
  if (s === undefined) {
    s = { instances: new Map(), cached: undefined };
    services.set(name, s);
  }
  return s;
}

function instanceOf(q) {
  const p = Number(q.port);
  if (typeof q.ip !== "string" || q.ip === "" || !Number.isInteger(p) || p < 1 || p > 65535) return undefined;
  const groupedName = q.serviceName.includes("@@") ? q.serviceName : `DEFAULT_GROUP@@${q.serviceName}`;
  return {
    ip: q.ip,
    port: p,
    valid: true,
    healthy: true,
    marked: false,
    instanceId: `${q.ip}#${p}#DEFAULT#${groupedName}`,
    metadata: {},
    enabled: true,
    weight: 1,
    clusterName: "DEFAULT",
    serviceName: q.serviceName,
    ephemeral: true,
    instanceHeartBeatInterval: 5000,
    instanceHeartBeatTimeOut: 15000,
    ipDeleteTimeout: 30000,
    instanceIdGenerator: "simple",
  };
}

function listAnswer(name, s) {
  return {
    name: `DEFAULT_GROUP@@${name}`,
    dom: name,
    clusters: "",
    env: "",
    cacheMillis: 3000,
    lastRefTime: Date.now(),
    checksum: "0",
    useSpecifiedURL: false,
    metadata: {},
    reachProtectionThreshold: false,
    hosts: [...s.instances.values()],
  };
}

const app = Fastify({ logger: false });
const text = "text/plain; charset=utf-8";
const json = "application/json; charset=utf-8";

function write(req, reply, apply) {
  const q = req.query;
  const instance = typeof q.serviceName === "string" ? instanceOf(q) : undefined;
  if (instance === undefined) return reply.code(400).type(text).send("bad request");
  const s = serviceOf(q.serviceName);
  apply(s.instances, `${instance.ip}:${instance.port}`, instance);
  s.cached = undefined;
  return reply.type(text).send("ok");
}

app.post("/nacos/v1/ns/instance", (req, reply) => write(req, reply, (m, id, i) => m.set(id, i)));
app.delete("/nacos/v1/ns/instance", (req, reply) => write(req, reply, (m, id) => m.delete(id)));
app.get("/nacos/v1/ns/instance/list", (req, reply) => {
  const name = String(req.query.serviceName);
  return reply.type(json).send(JSON.stringify(listAnswer(name, serviceOf(name))));
});
app.get("/bench/cached/instance/list", (req, reply) => {
  const name = String(req.query.serviceName);
  const s = serviceOf(name);
  s.cached ??= JSON.stringify(listAnswer(name, s));
  return reply.type(json).send(s.cached);
});
app.get("/nacos/v1/console/health/readiness", (_req, reply) => reply.type(text).send("OK"));

await app.listen({ port, host: "127.0.0.1" });
