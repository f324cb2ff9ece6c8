/**
 * PeerTransport over Nacos 1.4's HTTP peer protocol, for peers that speak only that (1.4 nodes) or that are
 * configured to (`--peer-transport http`). Every call goes to the peer's `/nacos/...` context path with 1.4's
 * peer headers and a deadline; failures are PeerErrors (connection refused → refused, deadline → timeout,
 * 4xx → rejected, anything else → unavailable).
 *
 * What travels, and how it maps:
 * - sync → `PUT /v1/ns/distro/datum`: 1.4 reads each service's live ephemeral instances; a ts-nacos receiver
 *   also reads the versioned datum carried alongside (see codecs/datum.ts). Persistent instances and service
 *   metadata reach only ts-nacos receivers, as 1.4 keeps those in its Raft store.
 * - verify → `PUT /v1/ns/distro/digest` to a ts-nacos peer; a 1.4 peer (404) is said to have no digests, and
 *   the node sends it 1.4's checksum round instead (`sendChecksums`, `PUT /v1/ns/distro/checksum?source=`).
 * - query / snapshot → `GET /v1/ns/distro/datum` (keys in a JSON body) / `GET /v1/ns/distro/datums`. A 1.4
 *   snapshot is one body; it is parsed as a stream and handed on in chunks of bounded size.
 * - report → `POST /v1/core/cluster/report` with our Member JSON.
 * - forward → the client API request 1.4's DistroFilter would proxy (codecs/forward.ts).
 * And the calls only 1.4 peers need (Nacos14Peers): datum and status fetches, checksums, service statuses.
 */
import { estimateBytes } from "../../core/datum-size.js";
import { NacosError } from "../../core/errors.js";
import type { ClientWrite } from "../../core/ops.js";
import type { ServiceDatum } from "../../core/service-datum.js";
import type { MemberInfo } from "../../node/cluster/member.js";
import {
  PeerError,
  SYNC_ACCEPTED,
  type ForwardOutcome,
  type Nacos14Peers,
  type OwnerList,
  type PeerTransport,
  type ServiceChecksums,
  type SnapshotChunk,
  type SyncOutcome,
  type VerifyDigest,
  type VerifyReply,
} from "../../node/ports.js";
import { asServiceDatum, decodeDatum, decodeDatumMap, encodeDatumMap } from "./codecs/datum.js";
import { decodeVerifyReply, DIGEST_PATH, encodeDigest } from "./codecs/digest.js";
import { forwardOutcomeOf, forwardRequestOf } from "./codecs/forward.js";
import { expectObject, parseJson } from "./codecs/json.js";
import { memberFromReportData } from "./codecs/member.js";
import { encodeReportedMember } from "./codecs/member-json.js";
import { decodeStatuses, encodeChecksums, encodeKeysBody, encodeServiceStatus } from "./codecs/messages.js";
import { objectMembers } from "./codecs/object-stream.js";
import { expectSuccess, Nacos14HttpClient, statusError, type Nacos14Http, type PeerAnswer } from "./http.js";

export interface Nacos14TransportOptions {
  /** This node's member address, sent as the `source` of syncs and verifies. */
  readonly self: string;
  /** Sent as `User-Agent: Nacos-Server:<version>` and `Client-Version`. */
  readonly version: string;
  readonly timeoutMs: number;
  readonly secret?: string | undefined;
  /** Size budget of one SnapshotChunk cut from a peer's snapshot body. */
  readonly snapshotChunkBytes: number;
  /** The largest body a peer accepts (every member is configured alike); larger syncs are split. */
  readonly maxBodyBytes: number;
  /** Time for the `lastBeat` and `lastRefreshTime` we send; the wall clock unless a test says otherwise. */
  readonly clock?: () => number;
  /** Where a member is reached now (its host name resolved); the member address itself when not given. */
  readonly addressOf?: ((peer: string) => string) | undefined;
}

const NS = "/nacos/v1/ns";

/**
 * The largest answer read from a peer (datum queries, statuses, reports): a query of 1,000 keys may be several
 * times a sync body, but a peer can never make this node buffer without bound.
 */
export const answerLimit = (maxBodyBytes: number): number => 8 * maxBodyBytes;

export class Nacos14Transport implements PeerTransport, Nacos14Peers {
  private readonly clock: () => number;

  constructor(
    private readonly options: Nacos14TransportOptions,
    private readonly http: Nacos14Http = new Nacos14HttpClient({
      version: options.version,
      timeoutMs: options.timeoutMs,
      secret: options.secret,
      maxAnswerBytes: answerLimit(options.maxBodyBytes),
      addressOf: options.addressOf,
    }),
  ) {
    this.clock = options.clock ?? Date.now;
  }

  close(): void {
    this.http.close();
  }

  /** One request per batch that fits the peer's body limit; a single datum too large for it is refused. */
  async sync(peer: string, datums: readonly ServiceDatum[]): Promise<SyncOutcome> {
    if (datums.length === 0) return SYNC_ACCEPTED; // 1.4 refuses an empty map
    // 1.4 takes a list as the whole list: a delta would remove every instance it lacks.
    if (datums.some((d) => d.partial === true)) throw new PeerError("rejected", peer, "a delta cannot go over the Nacos 1.4 protocol");
    const body = JSON.stringify(encodeDatumMap(datums, this.clock()));
    const bytes = Buffer.byteLength(body);
    if (bytes > this.options.maxBodyBytes) {
      if (datums.length === 1) {
        const reason = `its 1.4 JSON takes ${bytes} bytes, more than the ${this.options.maxBodyBytes}-byte body limit`;
        return { refused: [{ key: datums[0]!.key, reason }] };
      }
      const half = Math.ceil(datums.length / 2);
      const first = await this.sync(peer, datums.slice(0, half));
      const second = await this.sync(peer, datums.slice(half));
      return { refused: [...first.refused, ...second.refused] };
    }
    const query = { source: this.options.self };
    const answer = await this.http.call(peer, { method: "PUT", path: `${NS}/distro/datum`, query, body });
    expectSuccess(peer, answer, "sync");
    return SYNC_ACCEPTED;
  }

  /**
   * A ts-nacos peer gets the versioned digest and answers with the buckets that differ; a 1.4 peer has no digest
   * endpoint (404/501), which the reply says, and is verified with 1.4's checksums instead (`sendChecksums`).
   */
  async verify(peer: string, digest: VerifyDigest): Promise<VerifyReply> {
    const query = { source: digest.source };
    const body = JSON.stringify(encodeDigest(digest));
    const answer = await this.http.call(peer, { method: "PUT", path: NS + DIGEST_PATH, query, body });
    if (answer.status === 404 || answer.status === 501) return { mismatchedBuckets: [], digestsUnsupported: true };
    return this.read(peer, "verify reply", answer, decodeVerifyReply);
  }

  async sendChecksums(peer: string, checksums: ReadonlyMap<string, string>, viewHash: string): Promise<void> {
    const query = { source: this.options.self, viewHash };
    const body = JSON.stringify(encodeChecksums(checksums));
    expectSuccess(peer, await this.http.call(peer, { method: "PUT", path: `${NS}/distro/checksum`, query, body }), "verify");
  }

  async query(peer: string, keys: readonly string[]): Promise<ServiceDatum[]> {
    return (await this.fetchLists(peer, keys)).map((d) => asServiceDatum(d, peer));
  }

  async fetchLists(peer: string, keys: readonly string[]): Promise<OwnerList[]> {
    if (keys.length === 0) return [];
    const answer = await this.http.call(peer, { method: "GET", path: `${NS}/distro/datum`, body: encodeKeysBody(keys) });
    return this.read(peer, "datum answer", answer, (json) => decodeDatumMap(json, true));
  }

  async fetchStatuses(peer: string, key: string): Promise<Map<string, boolean>> {
    const answer = await this.http.call(peer, { method: "GET", path: `${NS}/instance/statuses`, query: { key } });
    return this.read(peer, "statuses answer", answer, decodeStatuses);
  }

  async sendServiceStatus(peer: string, report: ServiceChecksums): Promise<void> {
    const body = encodeServiceStatus(report, this.options.self);
    expectSuccess(peer, await this.http.call(peer, { method: "POST", path: `${NS}/service/status`, body }), "service status");
  }

  async *snapshot(peer: string, resumeAfter: string, signal?: AbortSignal): AsyncIterable<SnapshotChunk> {
    // A ts-nacos peer resumes after the key; 1.4 ignores the parameter and sends everything again, which is
    // harmless: applying a datum twice changes nothing.
    const query: Record<string, string> = resumeAfter === "" ? {} : { resumeAfter };
    const stream = await this.http.open(peer, { method: "GET", path: `${NS}/distro/datums`, query, signal });
    if (stream.status !== 200) {
      let body = "";
      for await (const piece of stream.text()) body += piece;
      throw statusError(peer, { status: stream.status, body }, "snapshot");
    }
    // Totals are known only from a ts-nacos peer; for 1.4 they are what has been read so far.
    const total = (name: string): number | undefined => {
      const n = Number(stream.headers[name]);
      return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
    };
    const totalKeys = total("x-snapshot-total-keys");
    const totalInstances = total("x-snapshot-total-instances");
    let datums: ServiceDatum[] = [];
    let bytes = 0;
    let keys = 0;
    let instances = 0;
    let last = resumeAfter;
    let yielded = false;
    const chunk = (): SnapshotChunk => ({
      datums,
      totalKeys: totalKeys ?? keys,
      totalInstances: totalInstances ?? instances,
      resumeToken: last,
    });
    try {
      for await (const [legacyKey, text] of objectMembers(stream.text(), answerLimit(this.options.maxBodyBytes))) {
        const value: unknown = JSON.parse(text);
        const read = value === null ? undefined : decodeDatum(legacyKey, value);
        if (read === undefined) continue;
        const datum = asServiceDatum(read, peer);
        datums.push(datum);
        bytes += estimateBytes(datum);
        keys++;
        instances += datum.instances.length;
        last = datum.key;
        if (bytes >= this.options.snapshotChunkBytes) {
          yield chunk();
          yielded = true;
          datums = [];
          bytes = 0;
        }
      }
    } catch (err) {
      throw this.malformed(peer, "snapshot", err);
    }
    // Always end with a chunk: a peer with nothing still served a (complete, empty) snapshot.
    if (datums.length > 0 || !yielded) yield chunk();
  }

  async report(peer: string, self: MemberInfo): Promise<MemberInfo> {
    const body = JSON.stringify(encodeReportedMember(self, this.clock()));
    const answer = await this.http.call(peer, { method: "POST", path: "/nacos/v1/core/cluster/report", body });
    const result = this.read(peer, "report answer", answer, (json) => expectObject(json, "report answer"));
    // 1.4 answers a refused report with HTTP 200 and the refusal in the RestResult.
    if (result.code !== 200) {
      throw new PeerError("rejected", peer, `report refused: ${String(result.code)} ${String(result.message)}`);
    }
    return this.decoding(peer, "report answer", () => memberFromReportData(peer, result.data));
  }

  async forward(peer: string, write: ClientWrite): Promise<ForwardOutcome> {
    const request = forwardRequestOf(write);
    const answer = await this.http.call(peer, { method: request.method, path: NS + request.path, query: request.params });
    return this.decoding(peer, "forward answer", () => forwardOutcomeOf(write, answer.status, answer.body));
  }

  /** A successful answer's JSON body, decoded; a malformed one is the peer's failure, not a refusal. */
  private read<T>(peer: string, what: string, answer: PeerAnswer, decode: (json: unknown) => T): T {
    const body = expectSuccess(peer, answer, what);
    return this.decoding(peer, what, () => decode(parseJson(body, what)));
  }

  private decoding<T>(peer: string, what: string, decode: () => T): T {
    try {
      return decode();
    } catch (err) {
      throw this.malformed(peer, what, err);
    }
  }

  private malformed(peer: string, what: string, err: unknown): unknown {
    if (err instanceof PeerError) return err;
    if (err instanceof NacosError || err instanceof SyntaxError) {
      return new PeerError("unavailable", peer, `malformed ${what}: ${err.message}`);
    }
    return err;
  }
}
