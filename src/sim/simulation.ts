/**
 * The fault simulator: N real nodes (3–7) on a virtual clock and a lossy simulated network, a client
 * workload that registers, beats, deregisters, abandons and queries through random nodes, and faults —
 * crashes and restarts, symmetric and asymmetric partitions, drops, duplicates, reordering — and each node's
 * peer transport (gRPC, Nacos 1.4 HTTP, or per-peer auto), all drawn from one seed. After the fault phase the network heals, crashed nodes restart, and the invariants are checked.
 */
import { serviceKey, type ServiceRef } from "../core/naming.js";
import type { ClientWrite } from "../core/ops.js";
import type { NodeConfig } from "../node/naming-node.js";
import { checkConverged, NoResurrection, VersionMonotonicity, type ExpectedInstance } from "./invariants.js";
import { seededRandom } from "./virtual-scheduler.js";
import type { PeerTransportMode } from "../node/ports.js";
import { SimCluster } from "./sim-cluster.js";
import { CALM_NETWORK } from "./sim-network.js";

export interface SimulationOptions {
  readonly seed: number;
  /** Cluster size; drawn from the seed in [3, 7] when omitted. */
  readonly nodes?: number;
  readonly faultPhaseMs?: number;
  readonly healPhaseMs?: number;
  readonly clients?: number;
  /** Every node's `--peer-transport`, or `mixed` (default): each node's drawn from the seed. */
  readonly transports?: PeerTransportMode | "mixed";
}

export interface SimulationResult {
  readonly seed: number;
  readonly nodes: number;
  readonly ok: boolean;
  readonly problems: string[];
  /** The last events before the end, for a failing seed's report. */
  readonly trace: string[];
  readonly stats: Record<string, number>;
  /** Each node's peer transport in this run. */
  readonly transports: Record<string, PeerTransportMode>;
}

type ClientState = "new" | "alive" | "deregistered" | "abandoned";

interface SimClient {
  readonly id: number;
  readonly service: ServiceRef;
  readonly ip: string;
  readonly port: number;
  /** A persistent instance (ephemeral=false): never beats, never expires, kept in the nodes' data directories. */
  readonly persistent: boolean;
  state: ClientState;
  /** When its last write was acknowledged. */
  ackedAt?: number;
}

const TRACE_LINES = Number(process.env.SIM_TRACE ?? 80);
/** Attempts, a second apart, a persistent instance's client makes: enough to outlast the fault phase. */
const PERSISTENT_ATTEMPTS = 600;

export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const sim = new Simulation(options);
  return sim.run();
}

class Simulation {
  private readonly cluster: SimCluster;
  private readonly trace: string[] = [];
  private readonly clients: SimClient[] = [];
  private readonly monotonic = new VersionMonotonicity();
  private readonly resurrection = new NoResurrection();
  private readonly stats: Record<string, number> = { writes: 0, failedWrites: 0, crashes: 0, partitions: 0, queries: 0 };
  private readonly size: number;
  private readonly faultPhaseMs: number;
  private readonly healPhaseMs: number;
  private faultsOn = true;
  private readonly transports: Record<string, PeerTransportMode> = {};
  private incarnations = 0;
  /** When nodes crashed that then restarted on an empty data directory: what only they held was lost. */
  private readonly wipes: number[] = [];

  constructor(private readonly options: SimulationOptions) {
    // The size is drawn from its own tiny generator so it does not shift the cluster's random stream.
    // Size and transports come from their own generator so they do not shift the cluster's random stream.
    const draw = seededRandom(options.seed ^ 0x5bd1e995);
    this.size = options.nodes ?? 3 + Math.floor(draw() * 5);
    this.faultPhaseMs = options.faultPhaseMs ?? 90_000;
    this.healPhaseMs = options.healPhaseMs ?? 75_000;
    const choice = options.transports ?? "mixed";
    // A gRPC-only node and an HTTP-only node share no protocol and can never form a cluster, so a mix pairs
    // `auto` nodes with one fixed kind (as an operator upgrading a cluster would run it).
    const fixed: PeerTransportMode = draw() < 0.5 ? "grpc" : "http";
    this.cluster = new SimCluster({
      size: this.size,
      seed: options.seed,
      configure: fastTombstones,
      transportOf: (address) => this.transports[address]!,
    });
    for (const address of this.cluster.addresses) {
      this.transports[address] = choice === "mixed" ? (draw() < 0.5 ? "auto" : fixed) : choice;
    }
  }

  private get rand(): () => number {
    return () => this.cluster.scheduler.random();
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)]!;
  }

  private log(event: string): void {
    const t = ((this.cluster.scheduler.now() - 1_700_000_000_000) / 1000).toFixed(3);
    this.trace.push(`[${t}s] ${event}`);
    if (this.trace.length > TRACE_LINES * 4) this.trace.splice(0, this.trace.length - TRACE_LINES);
  }

  async run(): Promise<SimulationResult> {
    const { cluster } = this;
    this.log(`transports: ${cluster.addresses.map((a) => `${a}=${this.transports[a]}`).join(" ")}`);
    for (const address of cluster.addresses) this.startNode(address);
    this.createClients();
    await cluster.advance(12_000); // the cluster forms
    this.scheduleWorkload();
    this.scheduleFaults();
    await cluster.advance(this.faultPhaseMs);
    this.endFaults();
    await cluster.advance(this.healPhaseMs);
    return this.verdict();
  }

  private startNode(address: string, emptyDisk = false): void {
    const node = this.cluster.start(address, { emptyDisk });
    const incarnation = `${address}#${++this.incarnations}`;
    this.monotonic.watch(node, incarnation);
    this.resurrection.watch(node, incarnation);
    this.log(`start ${incarnation}${emptyDisk ? " on an empty data directory" : ""}`);
  }

  private createClients(): void {
    const services = Array.from(
      { length: 8 },
      (_, i): ServiceRef => ({
        namespaceId: i % 4 === 3 ? "dev" : "public",
        groupedName: `DEFAULT_GROUP@@svc-${i}`,
      }),
    );
    const count = this.options.clients ?? 40;
    for (let id = 0; id < count; id++) {
      this.clients.push({
        id,
        service: this.pick(services),
        ip: `192.0.2.${1 + (id % 250)}`,
        port: 8000 + id,
        persistent: this.rand() < 0.25,
        state: "new",
      });
    }
  }

  /** A client's request to a random running node, like an SDK that picks a server at random. */
  private async send(client: SimClient, op: ClientWrite, what: string): Promise<boolean> {
    const running = this.cluster.running();
    if (running.length === 0) return false;
    const node = this.pick(running);
    this.stats.writes!++;
    try {
      await node.write(op);
      return true;
    } catch (err) {
      this.stats.failedWrites!++;
      this.log(`client ${client.id} ${what} via ${node.config.self} failed: ${(err as Error).message.slice(0, 80)}`);
      return false;
    }
  }

  private register(c: SimClient): ClientWrite {
    return {
      type: "register",
      service: c.service,
      instance: {
        ip: c.ip,
        port: c.port,
        clusterName: "DEFAULT",
        weight: 1,
        healthy: true,
        enabled: true,
        ephemeral: !c.persistent,
        metadata: { client: String(c.id) },
        app: "DEFAULT",
      },
    };
  }

  private beat(c: SimClient): ClientWrite {
    const address = { ip: c.ip, port: c.port, clusterName: "DEFAULT" };
    return {
      type: "beat",
      service: c.service,
      address,
      beat: { ...address, weight: 1, ephemeral: true, metadata: { client: String(c.id) } },
    };
  }

  private scheduleWorkload(): void {
    const { scheduler } = this.cluster;
    for (const c of this.clients) {
      // Clients arrive during the first part of the fault phase.
      scheduler.schedule(Math.floor(this.rand() * this.faultPhaseMs * 0.5), () => void this.arrive(c));
    }
    const query = (): void => {
      const running = this.cluster.running();
      if (running.length > 0) {
        const node = this.pick(running);
        const c = this.pick(this.clients);
        node.registry.getLive(serviceKey(c.service));
        this.stats.queries!++;
      }
      scheduler.schedule(200 + Math.floor(this.rand() * 800), query);
    };
    query();
  }

  private async arrive(c: SimClient): Promise<void> {
    c.state = "alive";
    this.log(`client ${c.id} registers ${c.ip}:${c.port} in ${serviceKey(c.service)}`);
    // An ephemeral instance's beats re-register it; a persistent one's client must retry until it gets through.
    await this.retried(c, this.register(c), "register", c.persistent ? PERSISTENT_ATTEMPTS : 1);
    const fate = this.rand();
    // A third deregister, a sixth abandon (stop beating), the rest beat to the end; a persistent instance
    // is deregistered or stays (it cannot be abandoned: nothing expires it).
    const dieAt = fate < 0.5 ? Math.floor(this.rand() * this.faultPhaseMs * 0.6) + 5_000 : undefined;
    const { scheduler } = this.cluster;
    const start = scheduler.now();
    if (c.persistent) {
      if (dieAt !== undefined) scheduler.schedule(dieAt, () => void this.die(c, "deregistered"));
      return;
    }
    const loop = async (): Promise<void> => {
      if (c.state !== "alive") return;
      if (dieAt !== undefined && scheduler.now() - start >= dieAt) return this.die(c, fate < 0.33 ? "deregistered" : "abandoned");
      await this.send(c, this.beat(c), "beat");
      scheduler.schedule(5_000, () => void loop());
    };
    scheduler.schedule(5_000, () => void loop());
  }

  private async die(c: SimClient, how: "deregistered" | "abandoned"): Promise<void> {
    c.state = how;
    this.resurrection.markDead(
      { key: serviceKey(c.service), ip: c.ip, port: c.port, ephemeral: !c.persistent },
      this.cluster.scheduler.now(),
    );
    this.log(`client ${c.id} ${how}`);
    if (how === "abandoned") return;
    const op: ClientWrite = {
      type: "deregister",
      service: c.service,
      address: { ip: c.ip, port: c.port, clusterName: "DEFAULT" },
      ephemeral: !c.persistent,
    };
    // Like a real client, retry a failed deregistration a few times; if all fail, an ephemeral instance
    // expires, a persistent one would stay: its client retries until it gets through.
    await this.retried(c, op, "deregister", c.persistent ? PERSISTENT_ATTEMPTS : 3);
  }

  private async retried(c: SimClient, op: ClientWrite, what: string, attempts: number): Promise<void> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (await this.send(c, op, what)) {
        c.ackedAt = this.cluster.scheduler.now();
        return;
      }
      await new Promise<void>((r) => this.cluster.scheduler.schedule(1_000, r));
    }
  }

  private scheduleFaults(): void {
    const { scheduler } = this.cluster;
    const next = (): void => {
      if (!this.faultsOn) return;
      this.injectFault();
      scheduler.schedule(3_000 + Math.floor(this.rand() * 9_000), next);
    };
    scheduler.schedule(2_000, next);
  }

  private injectFault(): void {
    const { cluster } = this;
    const { network, scheduler } = cluster;
    const roll = this.rand();
    const addresses = cluster.addresses;
    if (roll < 0.25) {
      const victim = this.pick(addresses);
      if (!cluster.isRunning(victim) || cluster.running().length <= 1) return;
      cluster.crash(victim);
      this.stats.crashes!++;
      this.log(`crash ${victim}`);
      const emptyDisk = this.rand() < 0.15;
      if (emptyDisk) this.wipes.push(scheduler.now());
      scheduler.schedule(5_000 + Math.floor(this.rand() * 20_000), () => {
        if (this.faultsOn && !cluster.isRunning(victim)) this.startNode(victim, emptyDisk);
      });
    } else if (roll < 0.45) {
      const shuffled = [...addresses].sort(() => this.rand() - 0.5);
      const cut = 1 + Math.floor(this.rand() * (shuffled.length - 1));
      const [a, b] = [shuffled.slice(0, cut), shuffled.slice(cut)];
      network.partition(a, b);
      this.stats.partitions!++;
      this.log(`partition [${a.join(" ")}] | [${b.join(" ")}]`);
      scheduler.schedule(4_000 + Math.floor(this.rand() * 15_000), () => {
        network.heal();
        this.log("partition healed");
      });
    } else if (roll < 0.6) {
      const from = this.pick(addresses);
      const to = this.pick(addresses.filter((x) => x !== from));
      network.block(from, to);
      this.log(`asymmetric: ${from} cannot reach ${to}`);
      scheduler.schedule(4_000 + Math.floor(this.rand() * 15_000), () => network.unblock(from, to));
    } else {
      network.faults = {
        drop: this.rand() * 0.3,
        duplicate: this.rand() * 0.2,
        minLatencyMs: 1,
        maxLatencyMs: 5 + Math.floor(this.rand() * 400),
        deltaLoss: this.rand() * 0.2,
        deltaDelay: this.rand() * 0.2,
      };
      const f = network.faults;
      this.log(
        `network drop=${f.drop.toFixed(2)} dup=${f.duplicate.toFixed(2)} latency≤${f.maxLatencyMs}ms ` +
          `deltaLoss=${f.deltaLoss!.toFixed(2)} deltaDelay=${f.deltaDelay!.toFixed(2)}`,
      );
    }
  }

  private endFaults(): void {
    this.faultsOn = false;
    const { cluster } = this;
    cluster.network.heal();
    cluster.network.faults = CALM_NETWORK;
    for (const address of cluster.addresses) if (!cluster.isRunning(address)) this.startNode(address);
    this.log("faults stop; network healed; every node running");
  }

  private verdict(): SimulationResult {
    const expected = (c: SimClient): ExpectedInstance => ({ key: serviceKey(c.service), ip: c.ip, port: c.port, ephemeral: !c.persistent });
    // A write acknowledged by a node that then lost its disk before passing it on is lost, as with any
    // single copy: a persistent client whose last acknowledged write predates such a loss may be either way.
    const known = (c: SimClient): boolean => !c.persistent || this.wipes.every((at) => (c.ackedAt ?? 0) > at);
    const alive = this.clients.filter((c) => c.state === "alive" && known(c)).map(expected);
    const dead = this.clients.filter((c) => (c.state === "deregistered" || c.state === "abandoned") && known(c)).map(expected);
    const problems = [
      ...checkConverged(this.cluster.running(), alive, dead),
      ...this.monotonic.violations,
      ...this.resurrection.violations,
    ];
    this.cluster.close();
    return {
      seed: this.options.seed,
      nodes: this.size,
      ok: problems.length === 0,
      problems,
      trace: this.trace.slice(-TRACE_LINES),
      stats: {
        ...this.stats,
        alive: alive.length,
        dead: dead.length,
        persistent: this.clients.filter((c) => c.persistent).length,
        persistentUnknown: this.clients.filter((c) => !known(c)).length,
        messages: this.cluster.network.messages,
        deltaFaults: this.cluster.network.deltaFaults,
      },
      transports: { ...this.transports },
    };
  }
}

/** Tombstones expire within the run (yet outlive any partition), so purging is exercised too. */
function fastTombstones(config: NodeConfig): NodeConfig {
  return { ...config, tombstoneTtlMs: 90_000 };
}
