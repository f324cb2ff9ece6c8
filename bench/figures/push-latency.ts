/**
 * `push-latency`: from a registration's answer to the push that carries it arriving at a subscriber: a 1.x UDP
 * subscriber (which acks every push, as clients do) and a 2.x client subscribed over the client port (which
 * answers every NotifySubscriberRequest on its stream), side by side on the same changes. Standalone (subscribed to the node written to), and in a 3-node cluster
 * with the subscriber on the writer's node and on another node (the change replicates first). Changes rotate over
 * a few services so that two changes of one service are 1.5 s apart and each change is pushed on its own; a
 * burst variant changes one service every 5 ms, so its changes are coalesced, and measures how late that makes
 * them. References: the coalescing window (1 s, 1.4's) for standalone UDP; the standalone figures of this run for
 * the cluster; the UDP subscriber on the same node for the 2.x subscriber.
 */
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { gunzipSync } from "node:zlib";
import { row, type Figure, type FigureContext, type Row } from "../lib/figure.js";
import { instanceAddress, instanceRequest, listRequest, send, servicesOwnedBy, sleep, waitMembers } from "../lib/http.js";
import { Probes } from "../lib/probes.js";
import type { Proc } from "../lib/procs.js";
import { RawNacos2Client } from "../../test/support/nacos2-raw-client.js";

const COALESCE_WINDOW_MS = 1_000;
/** Two changes of one service are at least this far apart (bursts aside). */
const PER_SERVICE_SPACING_MS = 1_500;
const BURST_SPACING_MS = 5;
const SETTLE_MS = 8_000;
const RESUBSCRIBE_MS = 10_000;

interface Subscriber {
  readonly label: string;
  readonly node: Proc;
  /** A 1.x client polling with its UDP port, or a 2.x client subscribed on the client port. */
  readonly kind: "udp" | "2.x";
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

/** A 2.x client connection subscribed to `services` on the subscriber's node, feeding sightings to `probes`. */
async function subscribe2x(sub: Subscriber, services: readonly string[], probes: Probes): Promise<{ close(): void }> {
  const client = new RawNacos2Client(`127.0.0.1:${sub.node.port + 1000}`);
  client.onMessage = (m) => {
    if (m.type !== "NotifySubscriberRequest") return;
    for (const h of (m.body.serviceInfo?.hosts ?? []) as Array<{ ip: string; port: number }>) probes.seen(`${h.ip}:${h.port}`, sub.label);
  };
  await client.ready();
  for (const serviceName of services) {
    const body = { namespace: "public", serviceName, groupName: "DEFAULT_GROUP", clusters: "", subscribe: true };
    const answer = await client.call("SubscribeServiceRequest", body);
    if (answer.body.resultCode !== 200) throw new Error(`2.x subscribe to ${serviceName}: ${JSON.stringify(answer.body)}`);
  }
  return { close: () => client.close() };
}

/** A UDP socket subscribed to `services` on the subscriber's node, feeding sightings to `probes`. */
async function subscribeUdp(sub: Subscriber, services: readonly string[], probes: Probes): Promise<{ close(): void }> {
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
  const sockets = await Promise.all(subs.map((s) => (s.kind === "udp" ? subscribeUdp : subscribe2x)(s, services, probes)));
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
  title: "change → push at a UDP (1.x) and a 2.x subscriber: standalone, and in a 3-node cluster on the writer's and another node",
  setup: async (ctx) => {
    const [standalone, cluster] = await Promise.all([ctx.scope.node({ label: "standalone" }), ctx.scope.cluster(3)]);
    return { standalone, cluster };
  },
  async run(ctx: FigureContext, { standalone, cluster }) {
    const count = ctx.pick({ smoke: 3, quick: 6, default: 10, full: 10 });
    const changes = ctx.pick({ smoke: 6, quick: 40, default: 100, full: 200 });
    const udp: Subscriber = { label: "standalone", node: standalone, kind: "udp" };
    const v2: Subscriber = { label: "standalone 2.x", node: standalone, kind: "2.x" };
    const names = Array.from({ length: count }, (_, i) => `push-s-${i}`);
    const alone = await measure(standalone, [udp, v2], names, changes);
    const burst = await measure(standalone, [udp], ["push-burst"], changes, BURST_SPACING_MS);
    const [writer, other] = cluster as [Proc, Proc, Proc];
    await waitMembers(
      cluster.map((p) => p.url),
      3,
    );
    const owned = await servicesOwnedBy(writer.url, writer.address, "push-c", count);
    const subs: Subscriber[] = [
      { label: "writer's node", node: writer, kind: "udp" },
      { label: "other node", node: other, kind: "udp" },
      { label: "writer's node 2.x", node: writer, kind: "2.x" },
      { label: "other node 2.x", node: other, kind: "2.x" },
    ];
    const inCluster = await measure(writer, subs, owned, changes);
    const s = alone.summary(["standalone"]);
    const window = { p50: COALESCE_WINDOW_MS, p99: COALESCE_WINDOW_MS };
    const onNode = (label: string): { p50: number; p99: number } => inCluster.summary([label]);
    const rows = [
      ...latencyRows("standalone", alone, "standalone", window, "the 1 s coalescing window"),
      ...latencyRows("standalone, 2.x subscriber (target p99 ≤ 20 ms)", alone, "standalone 2.x", s, "the UDP subscriber"),
      ...latencyRows(
        `standalone, one service changed every ${BURST_SPACING_MS} ms (coalesced)`,
        burst,
        "standalone",
        window,
        "the 1 s coalescing window",
      ),
      ...latencyRows("cluster, subscriber on the writer's node", inCluster, "writer's node", s, "standalone"),
      ...latencyRows("cluster, subscriber on another node", inCluster, "other node", s, "standalone"),
      ...latencyRows(
        "cluster, 2.x subscriber on the writer's node (≤ 20 ms)",
        inCluster,
        "writer's node 2.x",
        onNode("writer's node"),
        "UDP there",
      ),
      ...latencyRows("cluster, 2.x subscriber on another node (≤ 50 ms)", inCluster, "other node 2.x", onNode("other node"), "UDP there"),
    ];
    const lagsOf = (p: Probes, label: string) => ({ ...p.summary([label]), lagsMs: p.lags([label]) });
    const raw = {
      services: count,
      changes,
      standalone: lagsOf(alone, "standalone"),
      standalone2x: lagsOf(alone, "standalone 2.x"),
      burst: lagsOf(burst, "standalone"),
      writersNode: lagsOf(inCluster, "writer's node"),
      otherNode: lagsOf(inCluster, "other node"),
      writersNode2x: lagsOf(inCluster, "writer's node 2.x"),
      otherNode2x: lagsOf(inCluster, "other node 2.x"),
    };
    return { rows, raw };
  },
};
