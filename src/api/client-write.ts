/** A client write as the routes send it: to the node's writer, marked as forwarded when a peer proxied it. */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ClientWrite } from "../core/ops.js";
import { TEXT } from "../transport/http-common.js";
import type { NodeContext } from "./context.js";
import { fromPeer } from "./request-info.js";

/** Executes `op` (here or on its owner) and answers 1.4's plain `ok`. */
export async function writeOk(ctx: NodeContext, req: FastifyRequest, reply: FastifyReply, op: ClientWrite): Promise<FastifyReply> {
  await ctx.writer.write(op, { forwarded: fromPeer(req, ctx.peerSecret) });
  return reply.type(TEXT).send("ok");
}
