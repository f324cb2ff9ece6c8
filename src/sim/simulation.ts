/**
 * The fault simulator: N real nodes (3–7) on a virtual clock and a lossy simulated network, a client
 * workload that registers, beats, deregisters, abandons and queries through random nodes, 2.x clients that
 * hold a connection to one node and register over it (their connections drop, their node is killed under them,
 * they reconnect to another node and register again, they die with or without their node noticing at once), and
 * faults — crashes and restarts, symmetric and asymmetric partitions, drops, duplicates, reordering — and each
 * node's peer transport (gRPC, Nacos 1.4 HTTP, or per-peer auto), all drawn from one seed. After the fault phase
 * the network heals, crashed nodes restart, and the invariants are checked.
 */
import { serviceKey, type ServiceRef } from "../core/naming.js";
import type { ClientWrite, InstanceSpec } from "../core/ops.js";
import type { NodeConfig } from "../node/naming-node.js";
import { checkBindings, checkConverged, NoResurrection, VersionMonotonicity, type ExpectedInstance } from "./invariants.js";
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
  /** 2.x clients (connection-bound); 16 unless given. */
  readonly connectionClients?: number;
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

/**
 * A 2.x client: one connection to one node at a time, over which it registers its instances (one, or a batch);
 * when the connection is lost it connects to another node and registers them again, as the SDKs' redo does.
 */
interface SimConnectionClient {
  readonly id: number;
  readonly service: ServiceRef;
  readonly instances: readonly InstanceSpec[];
  state: "new" | "alive" | "deregistered" | "dead";
  /** The node and the connection it is connected by; undefined while (re)connecting. */
  node?: string | undefined;
  connectionId?: string | undefined;
}

/** How long a 2.x client waits before connecting again after losing its connection (the SDKs retry every ~3 s). */
const RECONNECT_MS = 3_000;

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
  private readonly connectionClients: SimConnectionClient[] = [];
  private connections = 0;
  private readonly monotonic = new VersionMonotonicity();
  private readonly resurrection = new NoResurrection();
  private readonly stats: Record<string, number> = {
    writes: 0,
    failedWrites: 0,
    crashes: 0,
    partitions: 0,
    queries: 0,
    connects: 0,
    connectionDrops: 0,
  };
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
      configure: fastTimers,
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
    for (let id = 0; id < (this.options.connectionClients ?? 16); id++) {
      const ip = `198.51.100.${1 + (id % 250)}`;
      const count = this.rand() < 0.3 ? 2 + Math.floor(this.rand() * 2) : 1;
      const instances = Array.from({ length: count }, (_, n) => connectionSpec(ip, 9000 + id * 4 + n, id));
      this.connectionClients.push({ id, service: this.pick(services), instances, state: "new" });
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
    for (const c of this.connectionClients) {
      scheduler.schedule(Math.floor(this.rand() * this.faultPhaseMs * 0.5), () => this.arriveConnected(c));
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

  // ---- 2.x clients ----

  private arriveConnected(c: SimConnectionClient): void {
    c.state = "alive";
    this.log(`2.x client ${c.id} starts with ${c.instances.map((i) => `${i.ip}:${i.port}`).join(",")} in ${serviceKey(c.service)}`);
    this.connect(c);
    const { scheduler } = this.cluster;
    // Its connection drops now and then (a network glitch, a load balancer): it connects again and redoes.
    const glitch = (): void => {
      if (c.state !== "alive") return;
      if (c.node !== undefined && this.faultsOn && this.rand() < 0.3) {
        this.log(`2.x client ${c.id}'s connection ${c.connectionId} to ${c.node} drops`);
        this.stats.connectionDrops!++;
        this.closeConnection(c, "connection dropped");
        scheduler.schedule(RECONNECT_MS, () => this.connect(c));
      }
      scheduler.schedule(5_000 + Math.floor(this.rand() * 15_000), glitch);
    };
    scheduler.schedule(5_000 + Math.floor(this.rand() * 15_000), glitch);
    const fate = this.rand();
    if (fate >= 0.55) return; // runs to the end
    const at = 5_000 + Math.floor(this.rand() * this.faultPhaseMs * 0.6);
    scheduler.schedule(at, () => {
      if (fate < 0.2) this.deregisterConnected(c);
      else if (fate < 0.4) this.kill(c, 0);
      // A host that vanishes: its node notices only when the connection stops answering detection.
      else this.kill(c, 3_000 + Math.floor(this.rand() * 15_000));
    });
  }

  /** Connects to a running node (any; it may still be loading) and registers everything again. */
  private connect(c: SimConnectionClient): void {
    if (c.state !== "alive" || c.node !== undefined) return;
    const running = this.cluster.running();
    if (running.length === 0) {
      this.cluster.scheduler.schedule(RECONNECT_MS, () => this.connect(c));
      return;
    }
    const node = this.pick(running);
    const id = `${1_700_000_000_000 + this.connections}_${c.instances[0]!.ip}_${50_000 + (this.connections % 10_000)}`;
    this.connections++;
    this.stats.connects!++;
    node.connections.open({
      id,
      clientIp: c.instances[0]!.ip,
      clientPort: 50_000,
      clientVersion: "Nacos-Sim-Client:v2",
      namespace: c.service.namespaceId,
      appName: "",
      labels: {},
      connectedAt: this.cluster.scheduler.now(),
    });
    c.node = node.config.self;
    c.connectionId = id;
    const connection = { node: node.config.self, connectionId: id };
    const op: ClientWrite =
      c.instances.length === 1
        ? { type: "register", service: c.service, instance: c.instances[0]!, connection }
        : { type: "batchRegister", service: c.service, instances: c.instances, connection };
    this.log(`2.x client ${c.id} connects to ${c.node} as ${id} and registers`);
    this.stats.writes!++;
    node.write(op).catch((err: unknown) => {
      this.stats.failedWrites!++;
      this.log(`2.x client ${c.id} register via ${connection.node} failed: ${String(err).slice(0, 80)}`);
    });
  }

  /** The node closes the connection (the client is gone, or the link broke): its instances go with it. */
  private closeConnection(c: SimConnectionClient, reason: string): void {
    const { node, connectionId } = c;
    c.node = undefined;
    c.connectionId = undefined;
    if (node !== undefined && connectionId !== undefined && this.cluster.isRunning(node)) {
      this.cluster.node(node).connections.close(connectionId, reason);
    }
  }

  /** The node a client was connected to crashed: the client notices and connects to another. */
  private lostNode(address: string): void {
    for (const c of this.connectionClients) {
      if (c.node !== address) continue;
      c.node = undefined;
      c.connectionId = undefined;
      if (c.state === "alive") this.cluster.scheduler.schedule(1_000 + Math.floor(this.rand() * RECONNECT_MS), () => this.connect(c));
    }
  }

  private markDead(c: SimConnectionClient): void {
    const now = this.cluster.scheduler.now();
    for (const i of c.instances) this.resurrection.markDead({ key: serviceKey(c.service), ip: i.ip, port: i.port, ephemeral: true }, now);
  }

  /** Deregisters over its connection (if it has one), then shuts down. */
  private deregisterConnected(c: SimConnectionClient): void {
    c.state = "deregistered";
    this.markDead(c);
    this.log(`2.x client ${c.id} deregisters and stops`);
    if (c.node !== undefined && c.connectionId !== undefined && this.cluster.isRunning(c.node)) {
      const connection = { node: c.node, connectionId: c.connectionId };
      const address = { ip: c.instances[0]!.ip, port: c.instances[0]!.port, clusterName: "DEFAULT" };
      void this.cluster
        .node(c.node)
        .write({ type: "deregister", service: c.service, address, ephemeral: true, connection })
        .catch(() => {});
    }
    this.closeConnection(c, "client stopped");
  }

  /** The client process dies; its node closes the connection after `noticedAfterMs` (0: at once, a reset). */
  private kill(c: SimConnectionClient, noticedAfterMs: number): void {
    c.state = "dead";
    this.log(`2.x client ${c.id} dies${c.node === undefined ? " while disconnected" : ""}; noticed after ${noticedAfterMs} ms`);
    const { node, connectionId } = c;
    const close = (): void => {
      this.markDead(c);
      if (c.node === node && c.connectionId === connectionId) this.closeConnection(c, "client gone");
    };
    if (noticedAfterMs === 0 || node === undefined) close();
    else this.cluster.scheduler.schedule(noticedAfterMs, close);
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
      this.lostNode(victim);
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
    const connected = (c: SimConnectionClient): ExpectedInstance[] =>
      c.instances.map((i) => ({ key: serviceKey(c.service), ip: i.ip, port: i.port, ephemeral: true }));
    const alive = [
      ...this.clients.filter((c) => c.state === "alive" && known(c)).map(expected),
      ...this.connectionClients.filter((c) => c.state === "alive").flatMap(connected),
    ];
    const dead = [
      ...this.clients.filter((c) => (c.state === "deregistered" || c.state === "abandoned") && known(c)).map(expected),
      ...this.connectionClients.filter((c) => c.state === "deregistered" || c.state === "dead").flatMap(connected),
    ];
    const problems = [
      ...checkConverged(this.cluster.running(), alive, dead),
      ...checkBindings(this.cluster.running()),
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
        connectionClientsAlive: this.connectionClients.filter((c) => c.state === "alive").length,
        messages: this.cluster.network.messages,
        deltaFaults: this.cluster.network.deltaFaults,
      },
      transports: { ...this.transports },
    };
  }
}

/**
 * Tombstones expire within the run (yet outlive any partition), so purging is exercised too; the connection
 * grace is shorter than most crashes and some partitions, so removals by peers and what undoes them are too.
 */
function fastTimers(config: NodeConfig): NodeConfig {
  return { ...config, tombstoneTtlMs: 90_000, connections: { ...config.connections, graceMs: 10_000 } };
}

function connectionSpec(ip: string, port: number, client: number): InstanceSpec {
  const metadata = { client: `2.x-${client}` };
  return { ip, port, clusterName: "DEFAULT", weight: 1, healthy: true, enabled: true, ephemeral: true, metadata, app: "DEFAULT" };
}
