/**
 * The switches as one cluster-wide, versioned value. What spreads (in member reports, to the data directory)
 * is not the switch object but the operator's updates — entry → the value last set — with the version of the
 * last one, so every node rebuilds its switches from the defaults through the same validation as
 * `PUT /operator/switches`: a peer (or a damaged file) can set nothing an operator could not. The newest
 * version wins everywhere, as for datums, and a peer's version is bounded as a datum's is (versionProblem).
 */
import type { Log } from "../core/log.js";
import { defaultSwitches, updateSwitch, type Switches } from "../core/switches.js";
import { compareVersions, ZERO_VERSION } from "../core/version.js";
import { versionProblem, type SwitchState } from "./cluster/member.js";

export const NO_SWITCH_UPDATES: SwitchState = { version: ZERO_VERSION, updates: {} };

export class ClusterSwitches {
  /** Read everywhere by reference, so it is changed in place. */
  readonly switches: Switches = defaultSwitches();
  private current: SwitchState = NO_SWITCH_UPDATES;

  constructor(
    private readonly self: string,
    /** How far ahead of this node's clock a peer's version may be (`--max-clock-skew-ms`). */
    private readonly maxAheadMs: number,
    private readonly log: Log,
  ) {}

  get state(): SwitchState {
    return this.current;
  }

  /** An operator's change here (throws the API's 400 for a bad entry or value); returns the new state. */
  update(entry: string, value: string, now: number): SwitchState {
    updateSwitch(this.switches, entry, value);
    const counter = Math.max(now, this.current.version.counter + 1);
    this.current = { version: { counter, writer: this.self }, updates: { ...this.current.updates, [entry]: value } };
    return this.current;
  }

  /**
   * Takes a peer's `state` if it is newer than what this node has and its version is one a peer may send
   * (refused, with a warning, when it is ahead of this node's clock by more than the allowed skew); returns
   * whether it did.
   */
  adopt(state: SwitchState | undefined, from: string, now: number): boolean {
    if (state === undefined || compareVersions(state.version, this.current.version) <= 0) return false;
    const problem = versionProblem(state.version, now, this.maxAheadMs);
    if (problem !== undefined) {
      this.log.warn("switch state refused", { from, error: problem });
      return false;
    }
    this.take(state, from);
    return true;
  }

  /**
   * Takes the state the data directory kept. One whose version no peer would take (written before versions
   * were bounded, or under a clock since set back) keeps its updates under a new version of this node, so the
   * operator's last change is neither lost nor refused by every peer; returns the state to store when it was
   * re-versioned so.
   */
  restore(state: SwitchState | undefined, now: number): SwitchState | undefined {
    if (state === undefined) return undefined;
    const problem = versionProblem(state.version, now, this.maxAheadMs);
    if (problem === undefined) {
      this.take(state, "the data directory");
      return undefined;
    }
    this.log.warn("stored switch state re-versioned", { error: problem });
    this.take({ version: { counter: now, writer: this.self }, updates: state.updates }, "the data directory");
    return this.current;
  }

  private take(state: SwitchState, from: string): void {
    const rebuilt = defaultSwitches();
    const kept: Record<string, string> = {};
    for (const [entry, value] of Object.entries(state.updates)) {
      try {
        updateSwitch(rebuilt, entry, value);
        kept[entry] = value;
      } catch (err) {
        this.log.warn("switch update refused", { from, entry, error: (err as Error).message });
      }
    }
    Object.assign(this.switches, rebuilt);
    this.current = { version: state.version, updates: kept };
  }
}
