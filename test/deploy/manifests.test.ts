/**
 * The deployment recipes — Dockerfile, Kubernetes manifests, systemd unit — checked against the node itself:
 * their ports are the node's defaults, their probe and health-check paths answer 200 on a real node, every
 * variable they set is one the node reads (the option table, or the nacos-server image's variables), the
 * Kubernetes objects select each other, and the manifests' environment is a configuration the node accepts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { CLIENT_GRPC_PORT_OFFSET, GRPC_PORT_OFFSET } from "../../src/core/address.js";
import * as options from "../../src/runtime/options.js";
import { type NodeProcess, startNode } from "../support/node-process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

const { DEFAULTS, HELP, loadConfig } = options;
const DEFAULT_PORTS = [DEFAULTS.port, DEFAULTS.port + CLIENT_GRPC_PORT_OFFSET, DEFAULTS.port + GRPC_PORT_OFFSET];
/** The entry point `npm start` runs (package.json), which every recipe must run too. */
const MAIN = /exec node (\S+)/.exec(JSON.parse(read("package.json")).scripts.start)![1]!;

/**
 * Every variable the node reads: each option's (the second column of `--help`), those `--help` names as `$VAR`
 * (NACOS_HOME), and the nacos-server image's (IMAGE_VARIABLES in src/runtime/options.ts; a name ending in `*`
 * is a prefix). Besides these only NODE_ENV, which Node.js libraries read.
 */
const IMAGE_VARIABLES = Object.keys((options as { IMAGE_VARIABLES?: Record<string, unknown> }).IMAGE_VARIABLES ?? {});
const KNOWN = new Set([
  ...[...HELP.matchAll(/^ {2}--\S+\s+([A-Z][A-Z0-9_]+)\s/gm)].map((m) => m[1]!),
  ...[...HELP.matchAll(/\$([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!),
  ...IMAGE_VARIABLES.filter((name) => !name.endsWith("*")),
  "NODE_ENV",
]);
const isKnown = (name: string) => KNOWN.has(name) || IMAGE_VARIABLES.some((p) => p.endsWith("*") && name.startsWith(p.slice(0, -1)));

function assertKnown(names: readonly string[], where: string): void {
  assert.ok(names.length > 0, `${where} sets variables`);
  const unknown = names.filter((n) => !isKnown(n));
  const images =
    IMAGE_VARIABLES.length > 0 ? "" : " (src/runtime/options.ts exports no IMAGE_VARIABLES: the members part of issue 18 is missing)";
  assert.deepEqual(unknown, [], `${where} sets variables the node does not read${images}`);
}

let node: NodeProcess;
before(async () => {
  node = await startNode();
});
after(async () => {
  await node.stop("SIGKILL");
});

async function assertAnswers200(path: string): Promise<void> {
  const res = await fetch(node.url + path);
  assert.equal(res.status, 200, `${path} on a running node`);
}

// --- Dockerfile -------------------------------------------------------------------------------------------

/** Instructions of a Dockerfile: continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(" ") };
    });
}

test("Dockerfile: the node's ports, a non-root user, the data volume, exec form, liveness health check", async () => {
  const all = instructions(read("Dockerfile"));
  const runtime = all.slice(all.map((i) => i.op).lastIndexOf("FROM"));
  const one = (op: string) => {
    const found = runtime.filter((i) => i.op === op);
    assert.equal(found.length, 1, `one ${op} in the runtime stage`);
    return found[0]!.args;
  };
  assert.deepEqual(one("EXPOSE").split(/\s+/).map(Number), DEFAULT_PORTS);
  assert.equal(one("USER"), "nacos");

  const env = Object.fromEntries(
    runtime.filter((i) => i.op === "ENV").flatMap((i) => [...i.args.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])),
  );
  assertKnown(Object.keys(env), "the Dockerfile");
  const dataDir = loadConfig([], env, "/").dataDir;
  assert.deepEqual(JSON.parse(one("VOLUME")), [dataDir], "the volume is the data directory the node uses in the image");
  assert.equal(dataDir, "/home/nacos/data");

  const workdir = runtime.find((i) => i.op === "WORKDIR")!.args;
  const entrypoint = JSON.parse(one("ENTRYPOINT")) as string[];
  assert.deepEqual(
    entrypoint,
    ["node", join(workdir, MAIN)],
    "exec form (node is PID 1 and gets SIGTERM), running npm start's entry point",
  );
  assert.equal(one("STOPSIGNAL"), "SIGTERM");

  const check = one("HEALTHCHECK");
  const liveness = /(\/nacos\/\S+?\/liveness)/.exec(check)?.[1];
  assert.equal(liveness, "/nacos/v1/console/health/liveness");
  await assertAnswers200(liveness);
  for (const name of check.match(/process\.env\.(\w+)/g) ?? []) assertKnown([name.slice("process.env.".length)], "HEALTHCHECK");
});

test(".dockerignore lets in exactly what the Dockerfile copies", () => {
  const copied = instructions(read("Dockerfile"))
    .filter((i) => i.op === "COPY" && !i.args.startsWith("--from"))
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  const allowed = read(".dockerignore")
    .split("\n")
    .filter((l) => l.startsWith("!"))
    .map((l) => l.slice(1).replace(/\/$/, ""));
  assert.deepEqual([...new Set(copied)].sort(), allowed.sort());
});

// --- Kubernetes -------------------------------------------------------------------------------------------

/** Manifests are untyped YAML. */
type Obj = any;
const docs: Obj[] = parseAllDocuments(read("deploy/k8s/nacos.yaml")).map((d) => {
  assert.deepEqual(d.errors, [], "the manifests parse");
  return d.toJS();
});
const byKind = (kind: string): Obj[] => docs.filter((d) => d.kind === kind);
const [sts] = byKind("StatefulSet");
const container = sts.spec.template.spec.containers[0];
const podLabels: Record<string, string> = sts.spec.template.metadata.labels;
const selects = (selector: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);

test("Kubernetes: 3 replicas, the node's ports, a claim mounted at the image's data directory", () => {
  assert.equal(byKind("StatefulSet").length, 1);
  assert.equal(sts.spec.replicas, 3);
  assert.ok(selects(sts.spec.selector.matchLabels), "the StatefulSet selects its own pods");
  assert.deepEqual(
    container.ports.map((p: Obj) => p.containerPort),
    DEFAULT_PORTS,
  );
  const [claim] = sts.spec.volumeClaimTemplates;
  const mount = container.volumeMounts.find((m: Obj) => m.name === claim.metadata.name);
  assert.equal(mount.mountPath, loadConfig([], { NACOS_HOME: "/home/nacos" }, "/").dataDir);
  assert.ok(sts.spec.template.spec.terminationGracePeriodSeconds * 1000 > 2 * DEFAULTS.shutdownTimeoutMs + 5_000);
});

test("Kubernetes: the Services and the budget select the StatefulSet's pods and name its ports", () => {
  const names = new Set(container.ports.map((p: Obj) => p.name));
  const services = byKind("Service");
  assert.equal(services.length, 2);
  for (const svc of services) {
    assert.ok(selects(svc.spec.selector), `Service ${svc.metadata.name} selects the pods`);
    for (const p of svc.spec.ports)
      assert.ok(names.has(p.targetPort), `Service ${svc.metadata.name} port ${p.name} targets a container port`);
  }
  const headless = services.find((s) => s.metadata.name === sts.spec.serviceName);
  assert.equal(headless.spec.clusterIP, "None");
  assert.equal(headless.spec.publishNotReadyAddresses, true, "a starting pod is found by its peers before it is ready");
  const [pdb] = byKind("PodDisruptionBudget");
  assert.equal(pdb.spec.maxUnavailable, 1);
  assert.ok(selects(pdb.spec.selector.matchLabels));
});

test("Kubernetes: the probes are the documented endpoints and answer 200 on a running node", async () => {
  const probes = ["livenessProbe", "readinessProbe", "startupProbe"].map((p) => container[p].httpGet);
  assert.equal(probes[0].path, "/nacos/v1/console/health/liveness");
  assert.equal(probes[1].path, "/nacos/v1/console/health/readiness");
  const http = container.ports.find((p: Obj) => p.containerPort === DEFAULTS.port).name;
  for (const probe of probes) {
    assert.equal(probe.port, http, "probes go to the HTTP port");
    await assertAnswers200(probe.path);
  }
});

/** The container's environment as Kubernetes gives it to pod `name`: fieldRefs filled in, `$(VAR)` expanded. */
function podEnv(name: string, namespace: string): Record<string, string> {
  const env: Record<string, string> = {};
  const fields: Record<string, string> = { "metadata.name": name, "metadata.namespace": namespace };
  for (const e of container.env) {
    if (e.value !== undefined) env[e.name] = String(e.value).replace(/\$\((\w+)\)/g, (_, v: string) => env[v] ?? `$(${v})`);
    else if (e.valueFrom.fieldRef !== undefined) env[e.name] = fields[e.valueFrom.fieldRef.fieldPath]!;
    else env[e.name] = e.valueFrom.secretKeyRef.key === "auth-token-key" ? Buffer.alloc(32, 7).toString("base64") : "a-secret";
  }
  return env;
}

test("Kubernetes: every variable is one the node reads, secrets come from the Secret, members are the pods' DNS names", () => {
  // Variables only there to be expanded into others ($(POD_NAME)), set from the pod's own fields.
  const helpers = container.env.filter((e: Obj) => e.valueFrom?.fieldRef !== undefined).map((e: Obj) => e.name as string);
  const values = container.env.map((e: Obj) => String(e.value ?? "")).join(" ");
  for (const h of helpers) assert.ok(values.includes(`$(${h})`), `${h} is used`);
  assertKnown(
    container.env.map((e: Obj) => e.name as string).filter((n: string) => !helpers.includes(n)),
    "the StatefulSet",
  );
  for (const secret of ["NACOS_CLUSTER_SECRET", "NACOS_AUTH_TOKEN"]) {
    assert.ok(container.env.find((e: Obj) => e.name === secret).valueFrom.secretKeyRef !== undefined, `${secret} from a Secret`);
  }
  const env = podEnv("nacos-1", "prod");
  const members = env.NACOS_SERVERS!.split(" ");
  const domain = `${sts.spec.serviceName}.prod.svc.cluster.local`;
  assert.deepEqual(
    members,
    Array.from({ length: sts.spec.replicas }, (_, i) => `${sts.metadata.name}-${i}.${domain}:${DEFAULTS.port}`),
  );
  assert.equal(env.NACOS_SERVER_IP, `nacos-1.${domain}`);
});

test("Kubernetes: a pod's environment is a cluster configuration the node accepts, the pod being one member", () => {
  const config = loadConfig([], podEnv("nacos-2", "prod"), "/");
  assert.equal(config.standalone, false);
  assert.equal(config.members.length, 3);
  assert.ok(config.members.includes(`nacos-2.nacos-headless.prod.svc.cluster.local:${DEFAULTS.port}`));
  assert.notEqual(config.clusterSecret, undefined);
  assert.notEqual(config.auth, undefined);
});

// --- systemd ----------------------------------------------------------------------------------------------

/** `Key=value` settings of a unit file, by key (a key may repeat). */
function unitSettings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m !== null) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

test("systemd: runs npm start's entry point as nacos, its data in the state directory, stopped by SIGTERM in time", () => {
  const unit = unitSettings(read("deploy/systemd/ts-nacos.service"));
  const one = (key: string) => {
    const values = unit.get(key) ?? [];
    assert.equal(values.length, 1, `one ${key}=`);
    return values[0]!;
  };
  assert.equal(one("User"), "nacos");
  assert.equal(one("ExecStart"), `/usr/bin/node ${join(one("WorkingDirectory"), MAIN)}`);
  const env = Object.fromEntries(unit.get("Environment")!.map((e) => e.split("=", 2) as [string, string]));
  assertKnown(Object.keys(env), "the unit");
  assert.equal(loadConfig([], env, "/").dataDir, `/var/lib/${one("StateDirectory")}`);
  assert.ok(one("ReadWritePaths").split(/\s+/).includes(env.NACOS_DATA_DIR!));
  assert.equal(one("KillSignal"), "SIGTERM");
  assert.ok(Number(one("TimeoutStopSec")) * 1000 > 2 * DEFAULTS.shutdownTimeoutMs + 5_000, "longer than the node's own stop bound");
  assert.equal(one("NoNewPrivileges"), "yes");
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("RestartPreventExitStatus"), "2", "a configuration error (exit 2) is not restarted in a loop");

  const envFile = read("deploy/systemd/ts-nacos.env");
  assertKnown(
    [...envFile.matchAll(/^#?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!),
    "ts-nacos.env",
  );
});
