/**
 * What must hold at the end of every simulated run, and what must hold at every step: no node ever moves a
 * service's metadata or any instance entry to an older version (checked on every registry change, per node
 * incarnation; an entry may only disappear by tombstone purge).
 */
import type { InstanceEntry } from "../core/service-datum.js";
import type { NamingNode } from "../node/naming-node.js";
import { compareVersions, formatVersion, type Version } from "../core/version.js";
import { firstDifference } from "./registry-digest.js";

export class VersionMonotonicity {
  readonly violations: string[] = [];

  watch(node: NamingNode, incarnation: string): void {
    const highest = new Map<string, Version>();
    const check = (id: string, version: Version): void => {
      const seen = highest.get(id);
      if (seen !== undefined && compareVersions(version, seen) < 0) {
        this.violations.push(`${incarnation}: ${id} moved back from ${formatVersion(seen)} to ${formatVersion(version)}`);
      }
      if (seen === undefined || compareVersions(version, seen) > 0) highest.set(id, version);
    };
    node.registry.onChange(({ key, service, entries }) => {
      if (service === undefined) return;
      check(`${key} meta`, service.metaVersion);
      for (const { after } of entries) if (after !== undefined) check(`${key} ${after.id}`, after.version);
    });
  }
}

export interface ExpectedInstance {
  readonly key: string;
  readonly ip: string;
  readonly port: number;
  readonly ephemeral: boolean;
}

function holds(node: NamingNode, e: ExpectedInstance): boolean {
  for (const i of node.registry.liveService(e.key)?.instances() ?? [])
    if (i.ip === e.ip && i.port === e.port && i.ephemeral === e.ephemeral) return true;
  return false;
}

/** The end-of-run checks: identical registries, live clients present everywhere, dead ones gone. */
export function checkConverged(
  nodes: readonly NamingNode[],
  alive: readonly ExpectedInstance[],
  dead: readonly ExpectedInstance[],
): string[] {
  const problems: string[] = [];
  const [first, ...rest] = nodes;
  if (first === undefined) return ["no node is running"];
  // Same clock, same horizon: afterwards no registry differs merely by when it last purged tombstones.
  for (const node of nodes) node.purge();
  for (const other of rest) {
    const diff = firstDifference(first.registry, other.registry);
    if (diff !== undefined) problems.push(`registries differ: ${first.config.self} vs ${other.config.self}:\n${diff}`);
  }
  for (const node of nodes) {
    if (!node.ready) problems.push(`${node.config.self} never became ready`);
    for (const e of alive) if (!holds(node, e)) problems.push(`${node.config.self} lost live instance ${e.ip}:${e.port} of ${e.key}`);
    for (const e of dead) if (holds(node, e)) problems.push(`${node.config.self} still holds dead instance ${e.ip}:${e.port} of ${e.key}`);
  }
  return problems;
}

/**
 * Every instance a 2.x client registered over its connection is bound to a connection that is open, on a node
 * that runs: none outlives its connection (its holder removes it on close, or the grace after a crash).
 */
export function checkBindings(nodes: readonly NamingNode[]): string[] {
  const problems: string[] = [];
  const byAddress = new Map(nodes.map((n) => [n.config.self, n]));
  for (const node of nodes) {
    for (const service of node.registry.services()) {
      for (const i of service.instances()) {
        const b = i.connection;
        if (b === undefined || byAddress.get(b.node)?.connections.holds(b.connectionId) === true) continue;
        problems.push(
          `${node.config.self} holds ${i.ip}:${i.port} of ${service.key} bound to ${b.node}/${b.connectionId}, which is not open`,
        );
      }
    }
  }
  return problems;
}

/**
 * Records, per node incarnation, instances that disappeared after their client died; one that reappears with a
 * version written after the death is a resurrection. A reappearance with an older version is late news (the
 * node learns the death later, and the final check proves it does), not a resurrection.
 */
export class NoResurrection {
  readonly violations: string[] = [];
  /** `key|ip:port` → when its client died. */
  private readonly diedAt = new Map<string, number>();

  markDead(e: ExpectedInstance, at: number): void {
    this.diedAt.set(`${e.key}|${e.ip}:${e.port}`, at);
  }

  watch(node: NamingNode, incarnation: string): void {
    const gone = new Set<string>();
    node.registry.onChange(({ key, service, entries, metaChanged }) => {
      const id = (e: InstanceEntry): string => `${key}|${e.instance!.ip}:${e.instance!.port}`;
      const live = service !== undefined && !service.deleted;
      // A change of `deleted` hides or shows every instance of the service, not only the entries it changed.
      const had = entries.flatMap(({ before }) => (before?.instance === undefined ? [] : [before]));
      const liveNow = (e: InstanceEntry | undefined): e is InstanceEntry => e?.instance !== undefined;
      const has = !live ? [] : metaChanged ? [...service.entries()].filter(liveNow) : entries.map(({ after }) => after).filter(liveNow);
      if (!live && service !== undefined) had.push(...[...service.entries()].filter(liveNow));
      const hasIds = new Set(has.map(id));
      for (const e of had) if (!hasIds.has(id(e)) && this.diedAt.has(id(e))) gone.add(id(e));
      for (const e of has) {
        const died = this.diedAt.get(id(e));
        if (gone.has(id(e)) && died !== undefined && e.version.counter >= died) {
          this.violations.push(`${incarnation}: dead instance ${id(e)} came back (version ${formatVersion(e.version)}, died at ${died})`);
        }
      }
    });
  }
}
