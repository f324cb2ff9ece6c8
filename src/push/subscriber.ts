/** A UDP push target: a 1.x client that polled `instance/list` with a `udpPort`. */
import type { ServiceRef } from "../core/naming.js";
import type { ConnectionSubscription } from "./connection-pushes.js";

export interface Subscriber {
  readonly service: ServiceRef;
  /** Cluster filter exactly as the client asked; pushes echo it like the polled answer does. */
  readonly clusters: string;
  /**
   * Where pushes go: the address the poll came from (behind a trusted proxy, the client it names), never an
   * address the request merely claims, so the node cannot be made to send pushes to a third party.
   */
  readonly ip: string;
  readonly udpPort: number;
  /** The client's User-Agent (decides grouped vs bare names, as in the polled answer). */
  readonly agent: string;
  readonly app: string;
  readonly env: string;
  readonly healthyOnly: boolean;
}

/** A subscriber as the node holds it: when its last poll came (scheduler ms), for the listings. */
export interface HeldSubscriber extends Subscriber {
  readonly polledAt: number;
}

/** What the HTTP layer needs from the push machinery. */
export interface PushSubscriptions {
  /**
   * Registers or refreshes a subscriber (every poll refreshes it; unrefreshed ones become zombies) and says
   * whether it will be pushed to. Not when push is switched off, the agent cannot take pushes
   * (`acceptsUdpPush` in client-agent.ts), there is no ip/udpPort to push to, a cap or mute refuses it, or
   * the target (ip:port) is already pushed this service under another cluster filter (one datagram per target
   * per change); the poll answer's cacheMillis follows the answer (a client that is not pushed to polls sooner).
   */
  subscribe(subscriber: Subscriber): boolean;
  /** Current (non-zombie) subscribers of a service on this node. */
  subscribersOf(service: ServiceRef): HeldSubscriber[];
  /** What a 2.x client connection is subscribed to on this node (for the `/client/*` listings). */
  subscriptionsOf(connectionId: string): ReadonlyArray<ConnectionSubscription>;
}
