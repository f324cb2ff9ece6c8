/**
 * One side of the `memory` figure, in its own process: holds `count` instances (10 per service) either in a
 * standalone node, registered through its write path, or in plain nested maps; prints heap bytes and resident
 * bytes (what a container limit sees: heap, its free space, Buffers, code) per instance after full GCs. Run
 * with --expose-gc.
 */
import { silentLog } from "../../src/core/log.js";
import type { ClientWrite } from "../../src/core/ops.js";
import { MemberTable } from "../../src/node/cluster/member-table.js";
import { NamingNode } from "../../src/node/naming-node.js";
import { defaultNodeConfig } from "../../src/runtime/options.js";
import { VirtualScheduler } from "../../src/sim/virtual-scheduler.js";

const [mode, countText] = process.argv.slice(2);
const count = Number(countText);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --expose-gc");

function usage(): { heap: number; rss: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

/** The n-th instance, 10 per service (10.x addresses: nothing is ever sent to them). */
function registration(n: number): ClientWrite {
  return {
    type: "register",
    service: { namespaceId: "public", groupedName: `DEFAULT_GROUP@@svc-${Math.floor(n / 10)}` },
    instance: {
      ip: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      port: 8080,
      clusterName: "DEFAULT",
      weight: 1,
      healthy: true,
      enabled: true,
      ephemeral: true,
      metadata: { version: "1.0.0", zone: `zone-${n % 3}` },
      app: "DEFAULT",
    },
  };
}

async function holdInNode(): Promise<unknown> {
  const scheduler = new VirtualScheduler(1);
  const self = "127.0.0.1:8848";
  const node = new NamingNode(defaultNodeConfig(self), scheduler, new MemberTable(self, [], scheduler.now()), {}, silentLog);
  await node.start();
  for (let n = 0; n < count; n++) await node.write(registration(n));
  return node;
}

function holdInMaps(): unknown {
  const services = new Map<string, Map<string, object>>();
  for (let n = 0; n < count; n++) {
    const op = registration(n);
    if (op.type !== "register") continue;
    const i = op.instance;
    const key = `${op.service.namespaceId}##${op.service.groupedName}`;
    let instances = services.get(key);
    if (instances === undefined) {
      instances = new Map();
      services.set(key, instances);
    }
    const id = `${i.ip}:${i.port}:unknown:${i.clusterName}`;
    instances.set(id, {
      instanceId: `${i.ip}#${i.port}#${i.clusterName}#${op.service.groupedName}`,
      ...i,
      serviceName: op.service.groupedName,
      marked: false,
      lastBeat: Date.now(),
    });
  }
  return services;
}

const before = usage();
const held = mode === "node" ? await holdInNode() : holdInMaps();
const after = usage();
const per = (bytes: number): number => Math.round(bytes / count);
process.stdout.write(JSON.stringify({ bytesPerInstance: per(after.heap - before.heap), rssPerInstance: per(after.rss - before.rss) }));
if (held === undefined) process.exitCode = 1;
process.exit();
