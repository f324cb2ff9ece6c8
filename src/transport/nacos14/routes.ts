/**
 * Nacos 1.4's peer endpoints, served from the node's Nacos14Handler, so 1.4 nodes (and
 * ts-nacos nodes talking HTTP) can replicate to, verify against, load from and report to this node. Register the plugin
 * once, without a prefix: it serves every route under both `/nacos/v1/...` (1.4's context path, which 1.4
 * peers call) and `/v1/...`.
 *
 * Bodies are read as text and parsed here, so a malformed one gets a 400 that says what is wrong before
 * anything is applied. With a cluster secret configured, every call must carry it (`X-Nacos-Cluster-Secret`)
 * or gets a 403 and changes nothing.
 */
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { NacosError, badRequest } from "../../core/errors.js";
import type { Log } from "../../core/log.js";
import type { MemberInfo } from "../../node/cluster/member.js";
import { BusyError, type Nacos14Handler, type SnapshotChunk } from "../../node/ports.js";
import { CONTEXT_PATHS, isServerFailure, JSON_TYPE, queryParam as param, sendError, socketIp, TEXT } from "../http-common.js";
import { PeerIdentity } from "../peer-identity.js";
import { CLUSTER_SECRET_HEADER, secretMatches } from "../peer-secret.js";
import { decodeDatumMap, encodeDatumMap } from "./codecs/datum.js";
import { decodeDigest, DIGEST_PATH, encodeVerifyReply } from "./codecs/digest.js";
import { expectObject, parseJson } from "./codecs/json.js";
import { decodeMember, reportAccepted, reportRefused } from "./codecs/member.js";
import { decodeChecksums, decodeKeysBody, decodeServiceStatus } from "./codecs/messages.js";

export interface Nacos14RoutesOptions {
  readonly handler: Nacos14Handler;
  /** Time stamped on what is sent (`lastBeat`, `lastRefreshTime`). */
  readonly clock: () => number;
  readonly log: Log;
  readonly secret?: string | undefined;
  /** Largest accepted body (the node's `--body-limit`). */
  readonly bodyLimitBytes: number;
  /** Checks that a caller speaks only for itself; the system resolver unless a test says otherwise. */
  readonly identity?: PeerIdentity;
  /** A snapshot answer whose reader takes nothing for this long is cut (default 30 s). */
  readonly snapshotStallMs?: number;
}

function textBody(req: FastifyRequest): string {
  return typeof req.body === "string" ? req.body : "";
}

/**
 * A body as text. 1.4 labels its syncs `Content-Encoding: gzip` yet sends plain JSON, so the label is not
 * trusted; a body that really is gzip (by its magic bytes) is unpacked.
 */
function bodyText(body: Buffer, limit: number): string {
  if (body[0] !== 0x1f || body[1] !== 0x8b) return body.toString("utf8");
  try {
    return gunzipSync(body, { maxOutputLength: limit }).toString("utf8");
  } catch (err) {
    throw badRequest(`gzip body cannot be unpacked (limit ${limit} bytes): ${(err as Error).message}`);
  }
}

/** Fastify does not read GET bodies; 1.4's datum query has one. */
async function getBody(req: FastifyRequest, limit: number): Promise<string> {
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of req.raw as AsyncIterable<Buffer>) {
    size += piece.length;
    if (size > limit) throw new NacosError(413, `request body is larger than ${limit} bytes`);
    pieces.push(piece);
  }
  return bodyText(Buffer.concat(pieces), limit);
}

/** The snapshot as one JSON object, written chunk by chunk: memory stays at one chunk whatever the registry's size. */
async function* snapshotJson(
  chunks: AsyncIterator<SnapshotChunk>,
  first: IteratorResult<SnapshotChunk>,
  now: number,
): AsyncGenerator<string> {
  yield "{";
  let separator = "";
  for (let next = first; next.done !== true; next = await chunks.next()) {
    const body = JSON.stringify(encodeDatumMap(next.value.datums, now)).slice(1, -1);
    if (body === "") continue;
    yield separator + body;
    separator = ",";
  }
  yield "}";
}

/**
 * The pieces of `source`, as long as the reader keeps asking for them: a piece the reader has not taken
 * within `stallMs` (its buffers full, its socket not draining) calls `onStall`, which ends the answer.
 */
async function* readerPaced<T>(source: AsyncIterable<T>, stallMs: number, onStall: () => void): AsyncGenerator<T> {
  let watchdog: NodeJS.Timeout | undefined;
  try {
    for await (const piece of source) {
      watchdog = setTimeout(onStall, stallMs).unref();
      yield piece;
      clearTimeout(watchdog);
    }
  } finally {
    clearTimeout(watchdog);
  }
}

export const nacos14PeerRoutes: FastifyPluginAsync<Nacos14RoutesOptions> = async (app, options) => {
  const { handler, clock, log, secret } = options;
  const bodyLimit = options.bodyLimitBytes;
  const identity = options.identity ?? new PeerIdentity();
  const stallMs = options.snapshotStallMs ?? 30_000;

  /** A member named by a request must be the one calling (403 otherwise, before anything is read or applied). */
  const requireCaller = async (req: FastifyRequest, member: string): Promise<void> => {
    const mismatch = await identity.mismatch(member, socketIp(req));
    if (mismatch === undefined) return;
    log.warn("peer call refused: the caller does not speak for itself", { from: socketIp(req), url: req.url, reason: mismatch });
    throw new NacosError(403, `a member may only speak for itself: ${mismatch}`);
  };

  const requireMember = (address: string): void => {
    if (!handler.isMember(address)) throw badRequest(`ip: ${address} is not in serverlist`);
  };

  /** Nobody outside the member list changes anything here, with or without a secret (403). */
  const refuseStranger = (req: FastifyRequest, address: string): void => {
    if (handler.isMember(address)) return;
    log.warn("peer call refused: not a member", { from: socketIp(req), url: req.url, named: address });
    throw new NacosError(403, `${address} is not a member of this cluster`);
  };

  /** A call that names no member (1.4's sync) must come from the address of one (403 otherwise). */
  const requireSomeMember = async (req: FastifyRequest): Promise<void> => {
    const ip = socketIp(req);
    for (const peer of handler.peers()) if ((await identity.mismatch(peer, ip)) === undefined) return;
    log.warn("peer call refused: not from a member's address", { from: ip, url: req.url });
    throw new NacosError(403, `${ip} is not the address of any member of this cluster`);
  };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit }, (_req, body, done) => {
    try {
      done(null, bodyText(body as Buffer, bodyLimit));
    } catch (err) {
      done(err as Error);
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (isServerFailure(err)) log.warn("1.4 peer request failed", { error: String(err) });
    return sendError(reply, err, bodyLimit);
  });

  if (secret !== undefined) {
    app.addHook("onRequest", async (req, reply) => {
      if (secretMatches(req.headers[CLUSTER_SECRET_HEADER.toLowerCase()], secret)) return;
      log.warn("peer call without the cluster secret refused", { from: socketIp(req), url: req.url });
      // Told to the node only when the call names a member and comes from its address (no stranger's say-so).
      const named = param(req, "source");
      if (named !== undefined && handler.isMember(named) && (await identity.mismatch(named, socketIp(req))) === undefined) {
        handler.secretRefusedFrom?.(named);
      }
      const message = `missing or wrong ${CLUSTER_SECRET_HEADER}: every member must share the cluster secret`;
      return reply.code(403).type(TEXT).send(message);
    });
  }

  const onSyncDatum = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const named = param(req, "source");
    if (named === undefined) await requireSomeMember(req);
    else {
      refuseStranger(req, named);
      await requireCaller(req, named);
    }
    const raw = textBody(req).trim();
    const map = raw === "" ? {} : expectObject(parseJson(raw, "datum map"), "datum map");
    if (Object.keys(map).length === 0) throw badRequest("receive empty entity!");
    handler.onOwnerLists(socketIp(req), named, decodeDatumMap(map, false));
    return reply.type(TEXT).send("ok");
  };

  const onQueryDatum = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const raw = (await getBody(req, bodyLimit)).trim();
    if (raw === "") throw badRequest(`the keys to query go in the body, as {"keys":"k1,k2"}`);
    const keys = decodeKeysBody(parseJson(raw, "body"));
    return reply.type(JSON_TYPE).send(JSON.stringify(encodeDatumMap(handler.onQuery(keys), clock())));
  };

  const onSnapshot = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let chunks: AsyncIterator<SnapshotChunk>;
    try {
      chunks = handler.onSnapshot(param(req, "resumeAfter") ?? "")[Symbol.asyncIterator]();
    } catch (err) {
      // Not ready (or no peer protocol at all), or busy: a 1.4 loader then tries the next member, and never
      // copies a half-loaded node (#8436).
      if (err instanceof BusyError) log.warn("snapshot refused: busy", { from: socketIp(req), reason: err.message });
      return reply
        .code(503)
        .type(TEXT)
        .send((err as Error).message);
    }
    // However the answer ends (done, client gone, reader stalled), the stream's slot is freed.
    reply.raw.once("close", () => void chunks.return?.().catch(() => undefined));
    const first = await chunks.next();
    if (first.done !== true) {
      reply.header("x-snapshot-total-keys", String(first.value.totalKeys));
      reply.header("x-snapshot-total-instances", String(first.value.totalInstances));
    }
    const stalled = (): void => {
      log.warn("snapshot answer cut: its reader stalled", { from: socketIp(req), stallMs });
      reply.raw.destroy();
    };
    return reply.type(JSON_TYPE).send(Readable.from(readerPaced(snapshotJson(chunks, first, clock()), stallMs, stalled)));
  };

  const onChecksums = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const source = param(req, "source");
    if (source === undefined) throw badRequest("Parameter 'source' is missing");
    requireMember(source);
    await requireCaller(req, source);
    handler.onChecksums(source, decodeChecksums(parseJson(textBody(req), "checksum map")), param(req, "viewHash"));
    return reply.type(TEXT).send("ok");
  };

  const onDigest = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const source = param(req, "source");
    if (source === undefined) throw badRequest("Parameter 'source' is missing");
    requireMember(source);
    await requireCaller(req, source);
    const digest = decodeDigest(parseJson(textBody(req), "digest"), source);
    return reply.type(JSON_TYPE).send(JSON.stringify(encodeVerifyReply(handler.onVerify(digest))));
  };

  const onServiceStatus = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const { clientIP, checksums } = decodeServiceStatus(textBody(req));
    requireMember(clientIP);
    await requireCaller(req, clientIP);
    handler.onServiceStatus(clientIP, checksums);
    return reply.type(TEXT).send("ok");
  };

  const onReport = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    let reporter: MemberInfo;
    try {
      reporter = decodeMember(parseJson(textBody(req), "member"));
    } catch (err) {
      if (!(err instanceof NacosError)) throw err;
      log.debug("illegal member report", { from: socketIp(req), error: err.message });
      return reply.type(JSON_TYPE).send(reportRefused);
    }
    // A member speaks only for itself: a `source` it names is the member the report describes (1.4 names none).
    const named = param(req, "source");
    if (named !== undefined && named !== reporter.address) {
      log.warn("peer call refused: a report for another member", { from: socketIp(req), source: named, member: reporter.address });
      throw new NacosError(403, `a member may only speak for itself: source ${named} reported for ${reporter.address}`);
    }
    refuseStranger(req, reporter.address);
    await requireCaller(req, reporter.address);
    return reply.type(JSON_TYPE).send(reportAccepted(handler.onReport(reporter), clock()));
  };

  for (const prefix of CONTEXT_PATHS) {
    app.put(`${prefix}/v1/ns/distro/datum`, onSyncDatum);
    app.get(`${prefix}/v1/ns/distro/datum`, onQueryDatum);
    app.get(`${prefix}/v1/ns/distro/datums`, onSnapshot);
    app.put(`${prefix}/v1/ns/distro/checksum`, onChecksums);
    app.put(`${prefix}/v1/ns${DIGEST_PATH}`, onDigest);
    app.post(`${prefix}/v1/ns/service/status`, onServiceStatus);
    app.post(`${prefix}/v1/core/cluster/report`, onReport);
  }
};
