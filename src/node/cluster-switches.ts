/**
 * The switches as one cluster-wide, versioned value. What spreads (in member reports, to the data directory)
 * is not the switch object but the operator's updates — entry → the value last set — with the version of the
 * last one, so every node rebuilds its switches from the defaults through the same validation as
 * `PUT /operator/switches`: a peer (or a damaged file) can set nothing an operator could not. The newest
 * version wins everywhere, as for datums.
 */
import type { Log } from "../core/log.js";
import { defaultSwitches, updateSwitch, type Switches } from "../core/switches.js";
import { compareVersions, ZERO_VERSION } from "../core/version.js";
import type { SwitchState } from "./cluster/member.js";

export const NO_SWITCH_UPDATES: SwitchState = { version: ZERO_VERSION, updates: {} };

export class ClusterSwitches {
  /** Read everywhere by reference, so it is changed in place. */
  readonly switches: Switches = defaultSwitches();
  private current: SwitchState = NO_SWITCH_UPDATES;

  constructor(
    private readonly self: string,
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

  /** Takes `state` if it is newer than what this node has; returns whether it did. */
  adopt(state: SwitchState | undefined, from: string): boolean {
    if (state === undefined || compareVersions(state.version, this.current.version) <= 0) return false;
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
    return true;
  }
}
