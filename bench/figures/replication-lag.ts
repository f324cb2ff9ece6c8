/**
 * `replication-lag`: one node of a 3-node cluster takes a steady stream of registrations (rate-limited, services
 * it owns, so nothing is forwarded); every ~50 ms a probe registration also lands there, and both peers are
 * polled every few ms for the probe service until the probe shows. Reports the rate the writer achieved
 * against the rate asked for, and the lag from the probe write's answer to its appearance on the peers, against
 * the configured replication merge window (--sync-delay-ms, 1 s by default: the lag's designed floor).
 */
import { row, type Figure, type FigureContext } from "../lib/figure.js";
import { get, instanceAddress, instanceRequest, listRequest, send, servicesOwnedBy, sleep, waitMembers } from "../lib/http.js";
import { type LoadResult, runLoad } from "../lib/load.js";
import { Probes } from "../lib/probes.js";
import type { Proc } from "../lib/procs.js";

const SYNC_DELAY_MS = 1_000;
const PROBE_EVERY_MS = 50;
const POLL_EVERY_MS = 5;
const SETTLE_MS = 10_000;
const PROBE_BASE = 1_000_000;
/** Probe id (ip:port) → its instance number. */
const numbers = new Map<string, number>();

/** Polls `peer`'s list of `service` until `stopped()`, marking probes (by ip:port) as seen; deregisters probes all peers saw. */
async function pollPeer(peer: Proc, writer: Proc, service: string, probes: Probes, stopped: () => boolean): Promise<void> {
  const list = listRequest(service);
  while (!stopped()) {
    const reply = await get(peer.url + list.path).catch(() => undefined);
    if (reply?.status === 200) {
      const hosts = (JSON.parse(reply.text) as { hosts: Array<{ ip: string; port: number }> }).hosts;
      for (const h of hosts) {
        const id = `${h.ip}:${h.port}`;
        if (probes.seen(id, peer.address)) {
          void send(writer.url, instanceRequest("DELETE", service, numbers.get(id)!)).catch(() => {});
        }
      }
    }
    await sleep(POLL_EVERY_MS);
  }
}

/** One probe write every PROBE_EVERY_MS until `stopped()`. */
async function probeWrites(writer: Proc, service: string, probes: Probes, stopped: () => boolean): Promise<void> {
  const inFlight: Promise<void>[] = [];
  for (let k = 0; !stopped(); k++) {
    const { ip, port } = instanceAddress(PROBE_BASE + k);
    const id = `${ip}:${port}`;
    probes.add(id);
    numbers.set(id, PROBE_BASE + k);
    inFlight.push(
      send(writer.url, instanceRequest("POST", service, PROBE_BASE + k)).then(
        () => probes.committed(id),
        () => {},
      ),
    );
    await sleep(PROBE_EVERY_MS);
  }
  await Promise.all(inFlight);
}

export const figure: Figure<Proc[]> = {
  name: "replication-lag",
  title: "replication lag to the 2 peers while one node of 3 takes a steady registration rate (vs the merge window)",
  setup: (ctx) => ctx.scope.cluster(3),
  async run(ctx: FigureContext, cluster) {
    const [writer, ...peers] = cluster as [Proc, Proc, Proc];
    await waitMembers(
      cluster.map((p) => p.url),
      3,
    );
    const services = await servicesOwnedBy(writer.url, writer.address, "lag", ctx.pick({ smoke: 10, quick: 50, default: 100, full: 100 }));
    const [probeService] = await servicesOwnedBy(writer.url, writer.address, "lagprobe", 1);
    const rate = ctx.pick({ smoke: 500, quick: 2_000, default: 2_000, full: 2_000 });
    const seconds = ctx.pick({ smoke: 2, quick: 6, default: 12, full: 30 });
    const probes = new Probes(peers.map((p) => p.address));
    // the probe and poll loops end on these flags, or at the latest at `hardStop`, whatever happens
    const hardStop = Date.now() + seconds * 1000 + SETTLE_MS + 30_000;
    let loading = true;
    let polling = true;
    const pollers = peers.map((peer) => pollPeer(peer, writer, probeService!, probes, () => !polling || Date.now() > hardStop));
    const probing = probeWrites(writer, probeService!, probes, () => !loading || Date.now() > hardStop);
    let load: LoadResult;
    try {
      load = await runLoad({
        port: writer.port,
        connections: 32,
        requests: rate * seconds,
        maxMs: seconds * 1000,
        ratePerSecond: rate,
        request: (n) => instanceRequest("POST", services[n % services.length]!, n),
      });
      loading = false;
      await probing;
      const settleUntil = Date.now() + SETTLE_MS;
      while (!probes.allSeen && Date.now() < settleUntil) await sleep(50);
    } finally {
      loading = false;
      polling = false;
      await Promise.all([probing, ...pollers]);
    }
    const lag = probes.summary();
    const missing = probes.missing();
    const note = `${probes.size} probes × 2 peers${missing > 0 ? `, ${missing} sightings missing after ${SETTLE_MS / 1000} s` : ""}; from the probe write's answer; reference: --sync-delay-ms`;
    const rows = [
      row(
        "writer rate achieved",
        load.perSecond,
        rate,
        "req/s",
        "≥ 1.00",
        `asked ${rate}/s for ${seconds} s; ${load.requests} answered, p99 ${load.p99.toFixed(0)} ms`,
      ),
      row("lag to peers p50", lag.p50, SYNC_DELAY_MS, "ms", "≈ 1.00", note),
      row("lag to peers p99", lag.p99, SYNC_DELAY_MS, "ms", "≈ 1.00", note),
    ];
    const perPeer = Object.fromEntries(peers.map((p) => [p.address, probes.summary([p.address])]));
    return { rows, raw: { rate, seconds, load, lag, perPeer, lagsMs: probes.lags(), missing } };
  },
};
