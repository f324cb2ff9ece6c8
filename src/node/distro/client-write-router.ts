/**
 * Nacos 1.4's DistroFilter, for writes: a write runs on the node responsible for its service, so every key
 * has a single writer. Any other node forwards it there once; a forwarded write is executed wherever it
 * lands (if views disagree for a moment, versions keep the result consistent) and is never forwarded again.
 * A 2.x connection's write is the exception: it runs on the node holding the connection, which answers for the
 * connection's instances (node/clients/), whoever owns their service.
 */
import { NacosError } from "../../core/errors.js";
import type { NamingService } from "../../core/naming-service.js";
import { asBound, type BoundWrite, type ClientWrite, type ClientWriter, type WriteResult } from "../../core/ops.js";
import { PeerError, type ForwardOutcome, type PeerTransport } from "../ports.js";
import type { DistroMapper } from "./distro-mapper.js";

export class ClientWriteRouter implements ClientWriter {
  constructor(
    private readonly mapper: DistroMapper,
    private readonly naming: NamingService,
    private readonly transport: PeerTransport | undefined,
    /** Executes a connection's write where the connection is (ClientConnections.execute). */
    private readonly executeBound: (op: BoundWrite) => WriteResult,
  ) {}

  async write(op: ClientWrite, options?: { readonly forwarded?: boolean }): Promise<WriteResult> {
    const bound = asBound(op);
    if (bound !== undefined) return this.executeBound(bound);
    const grouped = op.service.groupedName;
    if (options?.forwarded === true || this.transport === undefined || this.mapper.responsible(grouped)) {
      return this.naming.execute(op);
    }
    const owner = this.mapper.ownerOf(grouped);
    let outcome: ForwardOutcome;
    try {
      outcome = await this.transport.forward(owner, op);
    } catch (err) {
      const reason = err instanceof PeerError ? `${err.kind}: ${err.message}` : String(err);
      throw new NacosError(503, `responsible server ${owner} for ${grouped} is unreachable, try again later (${reason})`);
    }
    if (outcome.ok) return outcome.result;
    throw new NacosError(outcome.status, outcome.message);
  }

  /** The receiving side of a forward: executes here and turns a refusal into data for the caller. */
  async onForward(op: ClientWrite): Promise<ForwardOutcome> {
    try {
      return { ok: true, result: await this.write(op, { forwarded: true }) };
    } catch (err) {
      if (err instanceof NacosError) return { ok: false, status: err.status, message: err.message };
      throw err;
    }
  }
}
