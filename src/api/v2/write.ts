/** A client write from the v2 API: executed here or on its owner, exactly as a 1.x write; a refusal becomes 2.x's. */
import type { FastifyRequest } from "fastify";
import { NacosError } from "../../core/errors.js";
import type { ClientWrite, WriteResult } from "../../core/ops.js";
import type { NodeContext } from "../context.js";
import { fromPeer } from "../request-info.js";
import { refusalOf } from "./refusals.js";
import type { ErrorCode } from "./result.js";

/** `serviceMissing`: the code 2.x gives this write on a service that does not exist. */
export async function write(ctx: NodeContext, req: FastifyRequest, op: ClientWrite, serviceMissing?: ErrorCode): Promise<WriteResult> {
  try {
    return await ctx.writer.write(op, { forwarded: fromPeer(req, ctx.peerSecret) });
  } catch (err) {
    // A refusal (here or by the owner); anything else is a failure the scope's error handler logs.
    throw err instanceof NacosError ? refusalOf(err, serviceMissing) : err;
  }
}
