/**
 * `push-latency`: from a registration's answer to the UDP push that carries it arriving at a 1.x subscriber
 * (which acks every push, as clients do). Standalone (subscribed to the node written to), and in a 3-node cluster
 * with the subscriber on the writer's node and on another node (the change replicates first). Changes rotate over
 * a few services so that two changes of one service are 1.5 s apart and each change is pushed on its own; a
 * burst variant changes one service every 5 ms, so its changes are coalesced, and measures how late that makes
 * them. References: the coalescing window (1 s, 1.4's) for standalone; the standalone figures of this run for
 * the cluster.
 */
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { gunzipSync } from "node:zlib";
import { row, type Figure, type FigureContext, type Row } from "../lib/figure.js";
import { instanceAddress, instanceRequest, listRequest, send, servicesOwnedBy, sleep, waitMembers } from "../lib/http.js";
import { Probes } from "../lib/probes.js";
import type { Proc } from "../lib/procs.js";

const COALESCE_WINDOW_MS = 1_000;
/** Two changes of one service are at least this far apart (bursts aside). */
const PER_SERVICE_SPACING_MS = 1_500;
const BURST_SPACING_MS = 5;
const SETTLE_MS = 8_000;
const RESUBSCRIBE_MS = 10_000;

interface Subscriber {
  readonly label: string;
  readonly node: Proc;
}

/** Hosts (ip:port) of one push datagram, after acking it to its sender; [] for anything else. */
function readPush(socket: Socket, msg: Buffer, from: { address: string; port: number }): string[] {
  const text = (msg[0] === 0x1f && msg[1] === 0x8b ? gunzipSync(msg) : msg).toString("utf8");
  const packet = JSON.parse(text) as { type?: string; data?: string; lastRefTime?: number };
  if (packet.type !== "dom" || typeof packet.data !== "string") return [];
  socket.send(JSON.stringify({ type: "push-ack", lastRefTime: packet.lastRefTime, data: "" }), from.port, from.address);
  const hosts = (JSON.parse(packet.data) as { hosts?: Array<{ ip: string; port: number }> }).hosts ?? [];
  return hosts.map((h) => `${h.ip}:${h.port}`);
}

/** A UDP socket subscribed to `services` on the subscriber's node, feeding sightings to `probes`. */
async function subscribe(sub: Subscriber, services: readonly string[], probes: Probes): Promise<{ close(): void }> {
  const socket = createSocket("udp4");
  socket.on("error", () => {});
  socket.on("message", (msg, from) => {
    try {
      for (const id of readPush(socket, msg, from)) probes.seen(id, sub.label);
    } catch {
      // not a push we can read: ignored, as a client would
    }
  });
  socket.bind(0, "127.0.0.1");
  await once(socket, "listening");
  const udpPort = socket.address().port;
  const poll = (): Promise<unknown> =>
    Promise.all(services.map((s) => send(sub.node.url, listRequest(s, { udpPort, clientIP: "127.0.0.1" })).catch(() => {})));
  await poll();
  const timer = setInterval(() => void poll(), RESUBSCRIBE_MS); // a subscriber that stops polling is dropped
  return {
    close() {
      clearInterval(timer);
      socket.close();
    },
  };
}

/** `changes` new instances, one every `spacingMs` over `services` in turn, written to `writer`; waits for the pushes. */
async function measure(
  writer: Proc,
  subs: readonly Subscriber[],
  services: readonly string[],
  changes: number,
  spacingMs = PER_SERVICE_SPACING_MS / services.length,
): Promise<Probes> {
  const probes = new Probes(subs.map((s) => s.label));
  const sockets = await Promise.all(subs.map((s) => subscribe(s, services, probes)));
  try {
    const writes: Promise<void>[] = [];
    for (let k = 0; k < changes; k++) {
      const { ip, port } = instanceAddress(k);
      const id = `${ip}:${port}`;
      probes.add(id);
      const done = send(writer.url, instanceRequest("POST", services[k % services.length]!, k)).then(() => probes.committed(id));
      writes.push(done.catch(() => {}));
      await sleep(spacingMs);
    }
    await Promise.all(writes);
    const until = Date.now() + SETTLE_MS;
    while (!probes.allSeen && Date.now() < until) await sleep(20);
    return probes;
  } finally {
    for (const s of sockets) s.close();
  }
}

function latencyRows(variant: string, p: Probes, label: string, ref: { p50: number; p99: number }, refName: string): Row[] {
  const s = p.summary([label]);
  const missing = p.size - s.count;
  const note = `${s.count} pushes${missing > 0 ? `, ${missing} never arrived` : ""}; vs ${refName}`;
  return [row(`${variant} p50`, s.p50, ref.p50, "ms", "lower", note), row(`${variant} p99`, s.p99, ref.p99, "ms", "lower", note)];
}

export const figure: Figure<{ standalone: Proc; cluster: Proc[] }> = {
  name: "push-latency",
  title: "change → UDP push at a subscriber: standalone, and in a 3-node cluster on the writer's and another node",
  setup: async (ctx) => {
    const [standalone, cluster] = await Promise.all([ctx.scope.node({ label: "standalone" }), ctx.scope.cluster(3)]);
    return { standalone, cluster };
  },
  async run(ctx: FigureContext, { standalone, cluster }) {
    const count = ctx.pick({ smoke: 3, quick: 6, default: 10, full: 10 });
    const changes = ctx.pick({ smoke: 6, quick: 40, default: 100, full: 200 });
    const alone = await measure(
      standalone,
      [{ label: "standalone", node: standalone }],
      Array.from({ length: count }, (_, i) => `push-s-${i}`),
      changes,
    );
    const burst = await measure(standalone, [{ label: "standalone", node: standalone }], ["push-burst"], changes, BURST_SPACING_MS);
    const [writer, other] = cluster as [Proc, Proc, Proc];
    await waitMembers(
      cluster.map((p) => p.url),
      3,
    );
    const owned = await servicesOwnedBy(writer.url, writer.address, "push-c", count);
    const subs = [
      { label: "writer's node", node: writer },
      { label: "other node", node: other },
    ];
    const inCluster = await measure(writer, subs, owned, changes);
    const s = alone.summary();
    const rows = [
      ...latencyRows("standalone", alone, "standalone", { p50: COALESCE_WINDOW_MS, p99: COALESCE_WINDOW_MS }, "the 1 s coalescing window"),
      ...latencyRows(
        `standalone, one service changed every ${BURST_SPACING_MS} ms (coalesced)`,
        burst,
        "standalone",
        { p50: COALESCE_WINDOW_MS, p99: COALESCE_WINDOW_MS },
        "the 1 s coalescing window",
      ),
      ...latencyRows("cluster, subscriber on the writer's node", inCluster, "writer's node", s, "standalone"),
      ...latencyRows("cluster, subscriber on another node", inCluster, "other node", s, "standalone"),
    ];
    const raw = {
      services: count,
      changes,
      standalone: { ...s, lagsMs: alone.lags() },
      burst: { ...burst.summary(), lagsMs: burst.lags() },
      writersNode: { ...inCluster.summary(["writer's node"]), lagsMs: inCluster.lags(["writer's node"]) },
      otherNode: { ...inCluster.summary(["other node"]), lagsMs: inCluster.lags(["other node"]) },
    };
    return { rows, raw };
  },
};
