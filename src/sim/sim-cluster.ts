/**
 * N real NamingNodes in one process on a virtual clock and a simulated network. Nodes can crash (their
 * state is lost, like a killed process) and restart empty with the same address, then rejoin by snapshot.
 */
import { NacosError } from "../core/errors.js";
import { silentLog, type Log } from "../core/log.js";
import type { ClientWrite, WriteResult } from "../core/ops.js";
import { defaultNodeConfig, NamingNode, type NodeConfig } from "../runtime/naming-node.js";
import { VirtualScheduler } from "../runtime/virtual-scheduler.js";
import { SimNetwork } from "./sim-network.js";

export interface SimClusterOptions {
  readonly size: number;
  readonly seed: number;
  /** Adjusts each node's configuration (e.g. shorter timers). */
  readonly configure?: (config: NodeConfig) => NodeConfig;
  readonly log?: Log;
}

export type WriteOutcome = { ok: true; result: WriteResult } | { ok: false; status: number; message: string };

export class SimCluster {
  readonly scheduler: VirtualScheduler;
  readonly network: SimNetwork;
  readonly addresses: string[];
  private readonly nodes = new Map<string, NamingNode>();
  private readonly options: SimClusterOptions;

  constructor(options: SimClusterOptions) {
    this.options = options;
    this.scheduler = new VirtualScheduler(options.seed);
    this.network = new SimNetwork(this.scheduler);
    this.addresses = Array.from({ length: options.size }, (_, i) => `10.0.0.${i + 1}:8848`);
  }

  /** Starts every node at once (a cold cluster start). */
  startAll(): void {
    for (const address of this.addresses) this.start(address);
  }

  start(address: string): NamingNode {
    if (this.nodes.has(address)) throw new Error(`${address} is already running`);
    const base = defaultNodeConfig(address, this.addresses);
    const config = this.options.configure?.(base) ?? base;
    const node = new NamingNode(config, this.scheduler, this.network.transportFor(address), this.options.log ?? silentLog);
    this.nodes.set(address, node);
    this.network.attach(address, node);
    void node.start();
    return node;
  }

  /** Kills a node: it stops answering and everything it held in memory is gone. */
  crash(address: string): void {
    const node = this.nodes.get(address);
    if (node === undefined) return;
    this.network.detach(address);
    node.close();
    this.nodes.delete(address);
  }

  node(address: string): NamingNode {
    const node = this.nodes.get(address);
    if (node === undefined) throw new Error(`${address} is not running`);
    return node;
  }

  running(): NamingNode[] {
    return this.addresses.flatMap((a) => this.nodes.get(a) ?? []);
  }

  isRunning(address: string): boolean {
    return this.nodes.has(address);
  }

  /** A client write sent to one node, as a client would over HTTP (forwarded to the owner if needed). */
  async write(address: string, op: ClientWrite): Promise<WriteOutcome> {
    try {
      const pending = this.node(address).router.write(op);
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
