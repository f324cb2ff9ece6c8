/**
 * Datum versions. Nacos 1.4 datums carry no usable version, so a late or replayed sync can roll data back
 * (alibaba/nacos#4355). Here every write gets a hybrid-logical-clock version (see Registry.commit and
 * writeDatum): above every version its node has seen and at least the writer's clock, with the writer's
 * address as tie-breaker. Versions are
 * totally ordered, so every node keeps the same winner whatever order messages arrive in, and a new owner's
 * writes after a takeover order after the old owner's as long as clocks are roughly in step.
 */
export interface Version {
  readonly counter: number;
  readonly writer: string;
}

export const ZERO_VERSION: Version = { counter: 0, writer: "" };

export function compareVersions(a: Version, b: Version): number {
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  if (a.writer === b.writer) return 0;
  return a.writer < b.writer ? -1 : 1;
}

export const formatVersion = (v: Version): string => `${v.counter}@${v.writer}`;
