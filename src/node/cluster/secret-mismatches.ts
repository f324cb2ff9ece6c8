/**
 * Members this node and it disagree with about the cluster secret: a member that refuses our peer calls as
 * unauthenticated, or one whose calls we refuse for a missing or wrong secret. Such a cluster runs
 * half-authenticated (one side sees the other UP, the other sees it DOWN) while both would otherwise report
 * ready, so readiness answers 503 with the reason while any disagreement is recent, and each one is logged once
 * when it starts, naming the member and the fix. A disagreement ends when the member accepts a report of ours,
 * or after `forgetAfterMs` without another refusal (a member that stopped calling, or was given the secret).
 */
import type { Log } from "../../core/log.js";

type Direction = "refuses us" | "refused by us";

export class SecretMismatches {
  /** `direction member` → scheduler time of the last refusal. */
  private readonly last = new Map<string, { readonly member: string; readonly direction: Direction; at: number }>();

  constructor(
    private readonly now: () => number,
    private readonly forgetAfterMs: number,
    private readonly log: Log,
  ) {}

  /** The member refused a call of ours for a missing or wrong secret. */
  refusedBy(member: string): void {
    this.note(member, "refuses us");
  }

  /** We refused a call of the member's (its address checked) for a missing or wrong secret. */
  refusedFrom(member: string): void {
    this.note(member, "refused by us");
  }

  /** The member accepted a report of ours: it no longer refuses us. */
  acceptedBy(member: string): void {
    this.last.delete(`refuses us ${member}`);
  }

  /** Why the cluster is half-authenticated now; undefined when no member disagrees. */
  problem(): string | undefined {
    const now = this.now();
    const current = [...this.last.values()].filter((m) => now - m.at < this.forgetAfterMs);
    if (current.length === 0) return undefined;
    const what = current.map((m) =>
      m.direction === "refuses us" ? `${m.member} refuses our peer calls` : `we refuse ${m.member}'s peer calls`,
    );
    return `${what.join("; ")}: a missing or different cluster secret (give every node the same --cluster-secret-file or NACOS_CLUSTER_SECRET)`;
  }

  private note(member: string, direction: Direction): void {
    const key = `${direction} ${member}`;
    const now = this.now();
    const known = this.last.get(key);
    if (known === undefined || now - known.at >= this.forgetAfterMs) {
      const message =
        direction === "refuses us"
          ? "member refuses our peer calls as unauthenticated: its cluster secret differs from ours, or we have none"
          : "refusing a member's peer calls: they carry no cluster secret or a different one";
      this.log.warn(message, { member, fix: "give every node the same cluster secret (--cluster-secret-file or NACOS_CLUSTER_SECRET)" });
    }
    this.last.set(key, { member, direction, at: now });
  }
}
