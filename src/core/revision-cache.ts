/**
 * A value computed from a service and kept until the service changes: its revision says when. Held weakly,
 * so a forgotten service takes its cached values with it.
 */
import type { ServiceState } from "./service-record.js";

export class RevisionCache<T> {
  private readonly values = new WeakMap<ServiceState, { readonly revision: number; readonly value: T }>();

  get(service: ServiceState, compute: () => T): T {
    const held = this.values.get(service);
    if (held !== undefined && held.revision === service.revision) return held.value;
    const value = compute();
    this.values.set(service, { revision: service.revision, value });
    return value;
  }
}
