// placeholder: owned by helper A (issue 17 design)
/** The 2.x client connections this node holds (placeholder of the design's interface; helper A's file replaces it). */
import type { Instance } from "../../core/instance.js";

export interface ClientConnectionInfo {
  readonly id: string;
  readonly clientIp: string;
  readonly clientPort: number;
  readonly clientVersion: string;
  readonly namespace: string;
  readonly appName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly connectedAt: number;
}

export class ClientConnections {
  private readonly open_ = new Map<string, ClientConnectionInfo>();
  private readonly closedListeners: Array<(id: string) => void> = [];

  open(info: ClientConnectionInfo): void {
    this.open_.set(info.id, info);
  }

  close(id: string, _reason: string): void {
    if (!this.open_.delete(id)) return;
    for (const listener of this.closedListeners) listener(id);
  }

  get(id: string): ClientConnectionInfo | undefined {
    return this.open_.get(id);
  }

  list(): readonly ClientConnectionInfo[] {
    return [...this.open_.values()];
  }

  get size(): number {
    return this.open_.size;
  }

  onClosed(listener: (id: string) => void): void {
    this.closedListeners.push(listener);
  }

  instancesOf(_id: string): ReadonlyArray<readonly [string, Instance]> {
    return [];
  }
}
