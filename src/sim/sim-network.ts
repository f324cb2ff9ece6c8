/**
 * A simulated network between in-process nodes, driven by a (virtual) Scheduler: every request and answer
 * is a message with a random latency, and messages can be dropped, duplicated or blocked per direction
 * (asymmetric partitions). A node that is not attached refuses connections, like a crashed process, and never
 * answers what it was running when it crashed.
 * All randomness comes from the scheduler, so a seed replays the same run.
 */
import type { FastifyInstance } from "fastify";
import type { MemberInfo } from "../node/cluster/member.js";
import type { ClientWrite } from "../core/ops.js";
import { sleep, type Scheduler } from "../core/scheduler.js";
import type { ServiceDatum } from "../core/service-datum.js";
import {
  PeerError,
  type ForwardOutcome,
  type PeerHandler,
  type PeerTransport,
  type SnapshotChunk,
  type SyncOutcome,
  type VerifyDigest,
  type VerifyReply,
} from "../node/ports.js";

export interface NetworkFaults {
  /** Probability that a message (request, answer or stream chunk) is lost. */
  drop: number;
  /** Probability that a request is delivered twice. */
  duplicate: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  /**
   * Probability that the deltas (partial datums) of a sync are acknowledged but never merged — lost after the
   * receiver answered: only verify can bring those changes back.
   */
  deltaLoss?: number;
  /**
   * Probability that the deltas of a sync are acknowledged at once but merged seconds later, after the changes
   * sent behind them: deltas arrive out of order, and before the datum they apply to.
   */
  deltaDelay?: number;
}

export const CALM_NETWORK: NetworkFaults = { drop: 0, duplicate: 0, minLatencyMs: 1, maxLatencyMs: 5 };

/** How late a delayed delta arrives. */
const DELTA_DELAY_MS = { min: 1_000, max: 8_000 };

/** What a simulated node offers the network. */
export interface SimEndpoint {
  readonly handler: PeerHandler;
  /** Its HTTP app (client API and the 1.4 peer endpoints), reached by the simulated legacy transport. */
  readonly http: FastifyInstance | undefined;
  /** False for a node running `--peer-transport http`: it has no gRPC port, so gRPC calls are refused. */
  readonly servesGrpc: boolean;
}

export class SimNetwork {
  private readonly endpoints = new Map<string, SimEndpoint>();
  /** Blocked directions, as `from>to`. */
  private readonly blocked = new Set<string>();
  faults: NetworkFaults = { ...CALM_NETWORK };
  messages = 0;
  /** Syncs whose deltas were lost or delayed by the delta faults. */
  deltaFaults = 0;

  constructor(
    private readonly scheduler: Scheduler,
    readonly deadlineMs = 3000,
  ) {}

  attach(address: string, endpoint: SimEndpoint): void {
    this.endpoints.set(address, endpoint);
  }

  /** The node crashed: connections to it are refused from now on. */
  detach(address: string): void {
    this.endpoints.delete(address);
  }

  block(from: string, to: string): void {
    this.blocked.add(`${from}>${to}`);
  }

  unblock(from: string, to: string): void {
    this.blocked.delete(`${from}>${to}`);
  }

  /** Cuts every link between the two groups, both directions. */
  partition(a: readonly string[], b: readonly string[]): void {
    for (const x of a) {
      for (const y of b) {
        this.block(x, y);
        this.block(y, x);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  isBlocked(from: string, to: string): boolean {
    return this.blocked.has(`${from}>${to}`);
  }

  transportFor(self: string): PeerTransport {
    return new SimTransport(self, this);
  }

  /** A sync, with the delta faults applied to what it carries (the rest of the message travels as any call). */
  sync(from: string, to: string, datums: readonly ServiceDatum[]): Promise<SyncOutcome> {
    const { deltaLoss = 0, deltaDelay = 0 } = this.faults;
    const deltas = datums.filter((d) => d.partial === true);
    if (deltas.length === 0 || deltaLoss + deltaDelay === 0) return this.call(from, to, (e) => grpcOf(e, to).onSync(from, datums));
    const roll = this.scheduler.random();
    if (roll >= deltaLoss + deltaDelay) return this.call(from, to, (e) => grpcOf(e, to).onSync(from, datums));
    this.deltaFaults++;
    if (roll >= deltaLoss) {
      const late = DELTA_DELAY_MS.min + Math.floor(this.scheduler.random() * (DELTA_DELAY_MS.max - DELTA_DELAY_MS.min));
      this.scheduler.schedule(late, () => {
        const endpoint = this.endpoints.get(to);
        if (endpoint?.servesGrpc === true) endpoint.handler.onSync(from, deltas);
      });
    }
    const rest = datums.filter((d) => d.partial !== true);
    return this.call(from, to, (e) => grpcOf(e, to).onSync(from, rest));
  }

  /** Would a message from→to get through right now (drawing the drop dice)? */
  private passes(from: string, to: string): boolean {
    this.messages++;
    if (this.isBlocked(from, to)) return false;
    return this.scheduler.random() >= this.faults.drop;
  }

  private latency(): number {
    const { minLatencyMs: lo, maxLatencyMs: hi } = this.faults;
    return lo + Math.floor(this.scheduler.random() * (hi - lo + 1));
  }

  /**
   * One request/answer exchange, with the deadline of a real RPC. `invoke` runs on the receiver; a PeerError
   * it throws reaches the caller as is (e.g. "refused" for a protocol the receiver does not serve).
   */
  call<T>(from: string, to: string, invoke: (e: SimEndpoint) => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      // The first outcome wins: an answer, a refusal or the deadline.
      const settle = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        deadline.cancel();
        fn();
      };
      const deadline = this.scheduler.schedule(this.deadlineMs, () =>
        settle(() => reject(new PeerError("timeout", to, "deadline exceeded"))),
      );
      const deliver = (): void => {
        const endpoint = this.endpoints.get(to);
        if (endpoint === undefined) {
          settle(() => reject(new PeerError("refused", to, "connection refused")));
          return;
        }
        let answer: Promise<T>;
        try {
          answer = Promise.resolve(invoke(endpoint));
        } catch (err) {
          answer = Promise.reject(err);
        }
        // A node that crashed while it ran the request sends no answer (its caller hits the deadline), even
        // if closing it settled what the request waited for; nor does a restarted node answer for the old one.
        const answers = (deliverAnswer: () => void): void => {
          if (this.endpoints.get(to) === endpoint) this.reply(to, from, deliverAnswer);
        };
        answer.then(
          (value) => answers(() => settle(() => resolve(value))),
          (err: unknown) => {
            const failure = err instanceof PeerError ? err : new PeerError("rejected", to, String(err));
            answers(() => settle(() => reject(failure)));
          },
        );
      };
      if (!this.passes(from, to)) return; // lost: the caller hits its deadline
      this.scheduler.schedule(this.latency(), deliver);
      if (this.scheduler.random() < this.faults.duplicate) this.scheduler.schedule(this.latency(), () => void this.duplicate(to, invoke));
    });
  }

  /** A duplicated request: runs on the receiver again; its answer goes nowhere. */
  private async duplicate<T>(to: string, invoke: (e: SimEndpoint) => T | Promise<T>): Promise<void> {
    const endpoint = this.endpoints.get(to);
    if (endpoint === undefined) return;
    try {
      await invoke(endpoint);
    } catch {
      // the original request's answer already reported the outcome
    }
  }

  private reply(from: string, to: string, deliver: () => void): void {
    if (!this.passes(from, to)) return;
    this.scheduler.schedule(this.latency(), deliver);
  }

  /** A server stream: each chunk is a message that can be lost, which breaks the stream like a reset. */
  async *stream(from: string, to: string, resumeAfter: string): AsyncGenerator<SnapshotChunk> {
    let opened: AsyncIterator<SnapshotChunk> | undefined;
    try {
      const chunks = await this.call(from, to, (e) => {
        opened = grpcOf(e, to).onSnapshot(resumeAfter)[Symbol.asyncIterator]();
        return opened;
      });
      for (;;) {
        await sleep(this.scheduler, this.latency());
        if (!this.endpoints.has(to) || !this.passes(to, from)) throw new PeerError("unavailable", to, "stream reset");
        const next = await chunks.next();
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      // The sender's stream ends with the caller's, as a cancelled or reset call ends it (even one whose
      // opening answer was lost: a real server cuts it when it stalls).
      void opened?.return?.().catch(() => undefined);
    }
  }
}

/** The receiver's gRPC services, or a refusal when it runs without them. */
function grpcOf(endpoint: SimEndpoint, to: string): PeerHandler {
  if (!endpoint.servesGrpc) throw new PeerError("refused", to, "connection refused (no gRPC port)");
  return endpoint.handler;
}

/** The simulated gRPC transport: each call reaches the peer's PeerHandler directly. */
class SimTransport implements PeerTransport {
  constructor(
    private readonly self: string,
    private readonly net: SimNetwork,
  ) {}

  sync(peer: string, datums: readonly ServiceDatum[]): Promise<SyncOutcome> {
    return this.net.sync(this.self, peer, datums);
  }

  verify(peer: string, digest: VerifyDigest): Promise<VerifyReply> {
    return this.net.call(this.self, peer, (e) => grpcOf(e, peer).onVerify(digest));
  }

  query(peer: string, keys: readonly string[]): Promise<ServiceDatum[]> {
    return this.net.call(this.self, peer, (e) => grpcOf(e, peer).onQuery(keys));
  }

  snapshot(peer: string, resumeAfter: string): AsyncIterable<SnapshotChunk> {
    return this.net.stream(this.self, peer, resumeAfter);
  }

  report(peer: string, self: MemberInfo): Promise<MemberInfo> {
    return this.net.call(this.self, peer, (e) => grpcOf(e, peer).onReport(self));
  }

  forward(peer: string, write: ClientWrite): Promise<ForwardOutcome> {
    return this.net.call(this.self, peer, (e) => grpcOf(e, peer).onForward(write));
  }
}
