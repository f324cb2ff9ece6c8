/**
 * Where the members named by host name are now. A member's identity is its configured `host:port`; the
 * connection goes to whatever the name resolves to at the time, so a pod that comes back with a new IP is the
 * same member. Names are resolved at start, every `refreshMs`, and again when a call to the member fails or a
 * call claiming to come from it arrives from an address the name did not resolve to — at most once per
 * `minRetryMs` per name, so neither a failing peer nor a stranger's calls turn into a stream of lookups.
 * The resolver is injected (node:dns in the process, a fake in tests and the simulator).
 */
import { joinAddress, splitAddress } from "../../core/address.js";
import type { Log } from "../../core/log.js";
import { every, type Scheduler, type TimerHandle } from "../../core/scheduler.js";
import type { NameResolver } from "../ports.js";

/** The most addresses kept for one name: a hostile or huge answer costs no more than this. */
export const MAX_ADDRESSES_PER_NAME = 16;

export interface MemberNamesConfig {
  readonly refreshMs: number;
  /** The least time between two lookups of one name triggered by failures or strangers. */
  readonly minRetryMs: number;
}

/**
 * A name's answer as the member list uses it: distinct addresses, sorted (so equal answers compare equal), at
 * most `cap` of them, and how many distinct ones were read. Only the first 4 × `cap` entries are read, so a huge
 * or hostile answer costs no more than that.
 */
export function distinctAddresses(answer: readonly string[], cap: number): { readonly addresses: string[]; readonly distinct: number } {
  const distinct = [...new Set(answer.slice(0, cap * 4))].sort();
  return { addresses: distinct.slice(0, cap), distinct: distinct.length };
}

/** An IP literal (v4 dotted, or v6 with colons) needs no lookup; anything else is a host name. */
export const isIpLiteral = (host: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":");

interface NameState {
  addresses: readonly string[];
  /** Scheduler time of the last lookup started (0: never). */
  lastLookup: number;
  pending: Promise<readonly string[]> | undefined;
  /** The last lookup failed (said once, not every period). */
  failing: boolean;
}

export class MemberNames {
  private readonly names = new Map<string, NameState>();
  private timer: TimerHandle | undefined;

  constructor(
    members: readonly string[],
    private readonly resolver: NameResolver,
    private readonly scheduler: Scheduler,
    private readonly config: MemberNamesConfig,
    private readonly log: Log,
  ) {
    for (const member of members) {
      const { host } = splitAddress(member);
      if (!isIpLiteral(host)) this.names.set(host, { addresses: [], lastLookup: 0, pending: undefined, failing: false });
    }
  }

  /** True when some member is named by host name (else there is nothing to resolve). */
  get any(): boolean {
    return this.names.size > 0;
  }

  /** Resolves every name now, then every `refreshMs`. */
  start(): Promise<void> {
    this.timer = every(this.scheduler, this.config.refreshMs, () => this.refreshAll());
    return this.refreshAll();
  }

  close(): void {
    this.timer?.cancel();
  }

  /** The addresses `host` resolves to now: itself for an IP literal, none for a name not (yet) resolved. */
  addressesOf(host: string): readonly string[] {
    const state = this.names.get(host);
    return state === undefined ? [host] : state.addresses;
  }

  /** `host:port` → the `ip:port` to connect to now (the name itself until it has resolved once). */
  connectAddressOf(member: string): string {
    const { host, port } = splitAddress(member);
    return joinAddress(this.addressesOf(host)[0] ?? host, port);
  }

  /**
   * Resolves `host` again unless it was looked up less than `minRetryMs` ago; resolves to its addresses then.
   * A name that is not a member's is never looked up.
   */
  async refresh(host: string): Promise<readonly string[]> {
    const state = this.names.get(host);
    if (state === undefined) return this.addressesOf(host);
    if (state.pending !== undefined) return state.pending;
    if (state.lastLookup !== 0 && this.scheduler.now() - state.lastLookup < this.config.minRetryMs) return state.addresses;
    return this.lookup(host, state);
  }

  private async refreshAll(): Promise<void> {
    await Promise.all([...this.names].map(([host, state]) => state.pending ?? this.lookup(host, state)));
  }

  private lookup(host: string, state: NameState): Promise<readonly string[]> {
    state.lastLookup = this.scheduler.now();
    state.pending = this.resolve(host, state).finally(() => {
      state.pending = undefined;
    });
    return state.pending;
  }

  /** A failed or empty answer keeps the addresses known before: a DNS hiccup does not lose a member. */
  private async resolve(host: string, state: NameState): Promise<readonly string[]> {
    let answer: string[];
    try {
      answer = await this.resolver(host);
    } catch (err) {
      if (!state.failing) this.log.warn("member's host name does not resolve", { host, kept: state.addresses, error: String(err) });
      state.failing = true;
      return state.addresses;
    }
    state.failing = false;
    const { addresses } = distinctAddresses(answer, MAX_ADDRESSES_PER_NAME);
    if (addresses.length === 0) return state.addresses;
    if (addresses.join(",") !== state.addresses.join(",")) {
      if (state.addresses.length > 0)
        this.log.info("member's host name resolves to new addresses", { host, was: state.addresses, now: addresses });
      state.addresses = addresses;
    }
    return state.addresses;
  }
}
