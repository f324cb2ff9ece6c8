/**
 * N real NamingNodes in one process on a virtual clock and a simulated network, each built by the same
 * assembly as a real process (runtime/assemble.ts), with an HTTP app serving the 1.4 peer endpoints and the
 * `--peer-transport` the options give it. Nodes can crash (what they held in memory is lost, like a killed
 * process) and restart with the same address, from their data directory (a SimDisk that outlives the crash) or
 * from an empty one, then rejoin by snapshot.
 */
import type { FastifyInstance } from "fastify";
import { createHttpApp } from "../api/app.js";
import { apiContext } from "../api/context.js";
import { NacosError } from "../core/errors.js";
import { silentLog, type Log } from "../core/log.js";
import type { ClientWrite, WriteResult } from "../core/ops.js";
import type { NamingNode, NodeConfig } from "../node/naming-node.js";
import type { PeerTransportMode } from "../node/ports.js";
import type { PushSubscriptions } from "../push/subscriber.js";
import { assemble, type AssembledNode } from "../runtime/assemble.js";
import { DEFAULTS, defaultNodeConfig } from "../runtime/options.js";
import { answerLimit } from "../transport/nacos14/client.js";
import { FakeProber } from "./fake-prober.js";
import { VirtualScheduler } from "./virtual-scheduler.js";
import { SimNacos14Http } from "./sim-nacos14-http.js";
import { SimDisk } from "./sim-disk.js";
import { SimNetwork } from "./sim-network.js";

const SIM_VERSION = "sim";

/** Simulated clients poll; nothing listens for UDP pushes. */
// placeholder (subscriptionsOf): owned by helper B (issue 17 design)
const NO_PUSH: PushSubscriptions = { subscribe: () => false, subscribersOf: () => [], subscriptionsOf: () => [] };

interface RunningSimNode {
  readonly assembled: AssembledNode;
  readonly app: FastifyInstance;
}

export interface SimClusterOptions {
  readonly size: number;
  readonly seed: number;
  /** Each node's `--peer-transport`; gRPC everywhere when omitted. */
  readonly transportOf?: (address: string) => PeerTransportMode;
  /** Adjusts each node's configuration (e.g. shorter timers). */
  readonly configure?: (config: NodeConfig) => NodeConfig;
  readonly log?: Log;
}

export type WriteOutcome = { ok: true; result: WriteResult } | { ok: false; status: number; message: string };

export class SimCluster {
  readonly scheduler: VirtualScheduler;
  readonly network: SimNetwork;
  /** What persistent instances' endpoints answer the nodes' health checks (all up unless a test says otherwise). */
  readonly prober = new FakeProber();
  readonly addresses: string[];
  private readonly nodes = new Map<string, RunningSimNode>();
  /** Each address's data directory, kept across crashes. */
  private readonly disks = new Map<string, SimDisk>();
  private readonly options: SimClusterOptions;

  constructor(options: SimClusterOptions) {
    this.options = options;
    this.scheduler = new VirtualScheduler(options.seed);
    this.network = new SimNetwork(this.scheduler);
    this.addresses = Array.from({ length: options.size }, (_, i) => `127.0.0.${i + 1}:8848`);
  }

  /** Starts every node at once (a cold cluster start). */
  startAll(): void {
    for (const address of this.addresses) this.start(address);
  }

  /** Starts a node on its data directory as a crash left it, or on an empty one (`emptyDisk`). */
  start(address: string, options: { readonly emptyDisk?: boolean } = {}): NamingNode {
    if (this.nodes.has(address)) throw new Error(`${address} is already running`);
    if (options.emptyDisk === true || !this.disks.has(address)) this.disks.set(address, new SimDisk());
    const mode = this.options.transportOf?.(address) ?? "grpc";
    const base = defaultNodeConfig(address, this.addresses);
    const configured = this.options.configure?.(base) ?? base;
    const config = { ...configured, version: SIM_VERSION, abilities: { grpcPeer: mode !== "http", httpPeer: mode !== "grpc" } };
    const { bodyLimitBytes } = DEFAULTS;
    const assembled = assemble({
      config,
      mode,
      scheduler: this.scheduler,
      log: this.options.log ?? silentLog,
      secret: undefined,
      peerTimeoutMs: this.network.deadlineMs,
      bodyLimitBytes,
      grpc: () => this.network.transportFor(address),
      prober: this.prober,
      store: this.disks.get(address),
      http14: new SimNacos14Http(address, this.network, {
        version: SIM_VERSION,
        timeoutMs: this.network.deadlineMs,
        maxAnswerBytes: answerLimit(bodyLimitBytes),
      }),
    });
    const { node } = assembled;
    const app = createHttpApp(apiContext(node, { push: NO_PUSH, version: SIM_VERSION, peerSecret: undefined }), {
      bodyLimit: bodyLimitBytes,
    });
    this.nodes.set(address, { assembled, app });
    this.network.attach(address, { handler: node, http: app, servesGrpc: mode !== "http" });
    void assembled.servePeerRoutes(app);
    void node.start();
    return node;
  }

  /** Kills a node: it stops answering and everything it held in memory is gone. */
  crash(address: string): void {
    const running = this.nodes.get(address);
    if (running === undefined) return;
    this.network.detach(address);
    running.assembled.node.close();
    running.assembled.closeTransports();
    void running.app.close();
    this.nodes.delete(address);
  }

  node(address: string): NamingNode {
    const running = this.nodes.get(address);
    if (running === undefined) throw new Error(`${address} is not running`);
    return running.assembled.node;
  }

  running(): NamingNode[] {
    return this.addresses.flatMap((a) => this.nodes.get(a)?.assembled.node ?? []);
  }

  isRunning(address: string): boolean {
    return this.nodes.has(address);
  }

  /** A client write sent to one node, as a client would over HTTP (forwarded to the owner if needed). */
  async write(address: string, op: ClientWrite): Promise<WriteOutcome> {
    try {
      const pending = this.node(address).write(op);
      return { ok: true, result: await this.scheduler.runUntilSettled(pending, 10_000) };
    } catch (err) {
      if (err instanceof NacosError) return { ok: false, status: err.status, message: err.message };
      throw err;
    }
  }

  advance(ms: number): Promise<void> {
    return this.scheduler.advance(ms);
  }

  close(): void {
    for (const address of [...this.nodes.keys()]) this.crash(address);
  }
}
