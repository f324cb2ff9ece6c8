/**
 * What must hold at the end of every simulated run, and what must hold at every step: no node ever moves a
 * service's metadata or any instance entry to an older version (checked on every registry change, per node
 * incarnation; an entry may only disappear by tombstone purge).
 */
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
    node.registry.onChange(({ key, current }) => {
      if (current === undefined) return;
      check(`${key} meta`, current.metaVersion);
      for (const e of current.entries) check(`${key} ${e.id}`, e.version);
    });
  }
}

export interface ExpectedInstance {
  readonly key: string;
  readonly ip: string;
  readonly port: number;
}

const holds = (node: NamingNode, e: ExpectedInstance): boolean =>
  node.registry.getLive(e.key)?.instances.some((i) => i.ip === e.ip && i.port === e.port && i.ephemeral) ?? false;

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

/** Records, per node incarnation, instances that disappeared after their client died; reappearance is a violation. */
export class NoResurrection {
  readonly violations: string[] = [];
  private readonly dead = new Map<string, ExpectedInstance>();

  markDead(e: ExpectedInstance): void {
    this.dead.set(`${e.key}|${e.ip}:${e.port}`, e);
  }

  watch(node: NamingNode, incarnation: string): void {
    const gone = new Set<string>();
    node.registry.onChange((change) => {
      const had = new Set((change.previous?.instances ?? []).map((i) => `${change.key}|${i.ip}:${i.port}`));
      const has = new Set(
        change.current === undefined || change.current.deleted
          ? []
          : change.current.instances.map((i) => `${change.key}|${i.ip}:${i.port}`),
      );
      for (const id of had) if (!has.has(id) && this.dead.has(id)) gone.add(id);
      for (const id of has) {
        if (gone.has(id))
          this.violations.push(`${incarnation}: dead instance ${id} came back (version ${formatVersion(change.current!.version)})`);
      }
    });
  }
}
