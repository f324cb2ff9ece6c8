/**
 * SyncRequest and SnapshotResponse bytes parsed by hand into plain objects shaped like the generated messages
 * (what the datum decoder reads), several times faster than reflection-based `fromBinary` — the receiver's cost
 * of replication and of a join. Parsing only: every field is then checked by the same decoder as ever
 * (codecs/datum.ts). Unknown fields are skipped, as protobuf requires; bytes that are not a valid encoding
 * throw InvalidMessageError.
 */
import { InvalidMessageError } from "./invalid.js";

export interface VersionFields {
  readonly counter: bigint | number;
  readonly writer: string;
}

export interface InstanceFields {
  readonly instanceId: string;
  readonly ip: string;
  readonly port: number;
  readonly weight: number;
  readonly healthy: boolean;
  readonly enabled: boolean;
  readonly ephemeral: boolean;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly metadata: Record<string, string>;
  readonly app: string;
  readonly marked: boolean;
  readonly connection?: BindingFields | undefined;
}

export interface BindingFields {
  readonly node: string;
  readonly connectionId: string;
}

export type SelectorFields = {
  readonly kind:
    | { readonly case: "none"; readonly value: object }
    | { readonly case: "label"; readonly value: { readonly expression: string } }
    | { readonly case: undefined; readonly value?: undefined };
};

export type HealthCheckerFields = {
  readonly kind:
    | { readonly case: "tcp"; readonly value: object }
    | {
        readonly case: "http";
        readonly value: { readonly path: string; readonly headers: string; readonly expectedResponseCode: number };
      }
    | { readonly case: "none"; readonly value: object }
    | { readonly case: undefined; readonly value?: undefined };
};

export interface ClusterFields {
  readonly healthChecker?: HealthCheckerFields | undefined;
  readonly checkPort: number;
  readonly useInstancePort: boolean;
  readonly metadata: Record<string, string>;
}

/** A service's own settings (what a create/update-service write carries); a datum's meta adds `clusters`. */
export interface SpecFields {
  readonly protectThreshold: number;
  readonly metadata: Record<string, string>;
  readonly selector?: SelectorFields | undefined;
}

export interface MetaFields extends SpecFields {
  readonly clusters: Record<string, ClusterFields>;
}

export interface EntryFields {
  readonly id: string;
  readonly version?: VersionFields | undefined;
  readonly instance?: InstanceFields | undefined;
}

export interface DatumFields {
  readonly key: string;
  readonly deleted: boolean;
  readonly meta?: MetaFields | undefined;
  readonly metaVersion?: VersionFields | undefined;
  readonly entries: readonly EntryFields[];
}

export interface ChunkFields {
  readonly datums: readonly DatumFields[];
  readonly totalKeys: bigint | number;
  readonly totalInstances: bigint | number;
  readonly resumeToken: string;
}

const broken = (what: string): InvalidMessageError => new InvalidMessageError("message", `is not a valid encoding: ${what}`);

class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** A varint that fits 32 bits (tags, lengths, ports); larger values are refused. */
  uint32(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw broken("truncated varint");
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        if (value > 0xffffffff) throw broken("a 32-bit field holds a larger value");
        return value;
      }
    }
    throw broken("varint too long for 32 bits");
  }

  /** A 64-bit varint: a number when it is a safe integer, else a bigint (for the decoder to refuse). */
  uint64(): bigint | number {
    let value = 0;
    let big: bigint | undefined;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw broken("truncated varint");
      const b = this.buf[this.pos++]!;
      if (shift < 49) value += (b & 0x7f) * 2 ** shift;
      else big = (big ?? BigInt(value)) + (BigInt(b & 0x7f) << BigInt(shift));
      if (b < 0x80) return big === undefined ? value : big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    throw broken("varint too long");
  }

  bool(): boolean {
    return this.uint64() !== 0;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw broken("truncated double");
    const value = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** The bounds of a length-delimited field. */
  delimited(): [number, number] {
    const length = this.uint32();
    const start = this.pos;
    if (start + length > this.end) throw broken("a length runs past the end of its message");
    this.pos = start + length;
    return [start, start + length];
  }

  string(): string {
    const [start, end] = this.delimited();
    return this.buf.toString("utf8", start, end);
  }

  sub(): Reader {
    const [start, end] = this.delimited();
    return new Reader(this.buf, start, end);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Skips a field this reader does not know (a newer schema's). */
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.uint64();
        return;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.delimited();
        return;
      case 5:
        this.pos += 4;
        break;
      default:
        throw broken(`wire type ${wireType}`);
    }
    if (this.pos > this.end) throw broken("truncated field");
  }

  /** Calls `field(number, wireType)` for every field; it returns false for fields it does not take. */
  fields(field: (number: number, wireType: number) => boolean): void {
    while (!this.done) {
      const tag = this.uint32();
      const number = tag >>> 3;
      const wireType = tag & 7;
      if (number === 0) throw broken("field number 0");
      if (!field(number, wireType)) this.skip(wireType);
    }
  }
}

/** Accepts a known field only with the wire type its declaration gives it. */
const is = (wireType: number, expected: number): boolean => {
  if (wireType !== expected) throw broken(`wire type ${wireType} where ${expected} was declared`);
  return true;
};

function version(r: Reader): VersionFields {
  let counter: bigint | number = 0;
  let writer = "";
  r.fields((n, w) => {
    if (n === 1 && is(w, 0)) counter = r.uint64();
    else if (n === 2 && is(w, 2)) writer = r.string();
    else return false;
    return true;
  });
  return { counter, writer };
}

/** A map entry whose value is read by `read` (from a sub-reader for a message, the field itself for a string). */
function mapEntry<V>(r: Reader, into: Record<string, V>, empty: V, read: (r: Reader) => V): void {
  let key = "";
  let value = empty;
  r.fields((n, w) => {
    if (n === 1 && is(w, 2)) key = r.string();
    else if (n === 2 && is(w, 2)) value = read(r);
    else return false;
    return true;
  });
  into[key] = value;
}

const stringEntry = (r: Reader, into: Record<string, string>): void => mapEntry(r, into, "", (v) => v.string());

function binding(r: Reader): BindingFields {
  let node = "";
  let connectionId = "";
  r.fields((n, w) => {
    if (n === 1 && is(w, 2)) node = r.string();
    else if (n === 2 && is(w, 2)) connectionId = r.string();
    else return false;
    return true;
  });
  return { node, connectionId };
}

function instance(r: Reader): InstanceFields {
  const i: { -readonly [K in keyof InstanceFields]: InstanceFields[K] } & { metadata: Record<string, string> } = {
    instanceId: "",
    ip: "",
    port: 0,
    weight: 0,
    healthy: false,
    enabled: false,
    ephemeral: false,
    clusterName: "",
    serviceName: "",
    metadata: {} as Record<string, string>,
    app: "",
    marked: false,
  };
  r.fields((n, w) => {
    switch (n) {
      case 1:
        if (is(w, 2)) i.instanceId = r.string();
        return true;
      case 2:
        if (is(w, 2)) i.ip = r.string();
        return true;
      case 3:
        if (is(w, 0)) i.port = r.uint32();
        return true;
      case 4:
        if (is(w, 1)) i.weight = r.double();
        return true;
      case 5:
        if (is(w, 0)) i.healthy = r.bool();
        return true;
      case 6:
        if (is(w, 0)) i.enabled = r.bool();
        return true;
      case 7:
        if (is(w, 0)) i.ephemeral = r.bool();
        return true;
      case 8:
        if (is(w, 2)) i.clusterName = r.string();
        return true;
      case 9:
        if (is(w, 2)) i.serviceName = r.string();
        return true;
      case 10:
        if (is(w, 2)) stringEntry(r.sub(), i.metadata);
        return true;
      case 11:
        if (is(w, 2)) i.app = r.string();
        return true;
      case 12:
        if (is(w, 0)) i.marked = r.bool();
        return true;
      case 13:
        if (is(w, 2)) i.connection = binding(r.sub());
        return true;
      default:
        return false;
    }
  });
  return i;
}

/** A message without fields (a oneof case that is only a kind): whatever it holds is skipped. */
function empty(r: Reader): object {
  r.sub().fields(() => false);
  return {};
}

function selector(r: Reader): SelectorFields {
  let kind: SelectorFields["kind"] = { case: undefined };
  r.fields((n, w) => {
    if (n === 1 && is(w, 2)) kind = { case: "none", value: empty(r) };
    else if (n === 2 && is(w, 2)) {
      let expression = "";
      const label = r.sub();
      label.fields((m, lw) => {
        if (m !== 1 || !is(lw, 2)) return false;
        expression = label.string();
        return true;
      });
      kind = { case: "label", value: { expression } };
    } else return false;
    return true;
  });
  return { kind };
}

function httpChecker(r: Reader): { path: string; headers: string; expectedResponseCode: number } {
  const http = { path: "", headers: "", expectedResponseCode: 0 };
  r.fields((n, w) => {
    if (n === 1 && is(w, 2)) http.path = r.string();
    else if (n === 2 && is(w, 2)) http.headers = r.string();
    else if (n === 3 && is(w, 0)) http.expectedResponseCode = r.uint32();
    else return false;
    return true;
  });
  return http;
}

function healthChecker(r: Reader): HealthCheckerFields {
  let kind: HealthCheckerFields["kind"] = { case: undefined };
  r.fields((n, w) => {
    if (n === 1 && is(w, 2)) kind = { case: "tcp", value: empty(r) };
    else if (n === 2 && is(w, 2)) kind = { case: "http", value: httpChecker(r.sub()) };
    else if (n === 3 && is(w, 2)) kind = { case: "none", value: empty(r) };
    else return false;
    return true;
  });
  return { kind };
}

function cluster(r: Reader): ClusterFields {
  let checker: HealthCheckerFields | undefined;
  let checkPort = 0;
  let useInstancePort = false;
  const metadata: Record<string, string> = {};
  r.fields((n, w) => {
    if (n === 1 && is(w, 2)) checker = healthChecker(r.sub());
    else if (n === 2 && is(w, 0)) checkPort = r.uint32();
    else if (n === 3 && is(w, 0)) useInstancePort = r.bool();
    else if (n === 4 && is(w, 2)) stringEntry(r.sub(), metadata);
    else return false;
    return true;
  });
  return { healthChecker: checker, checkPort, useInstancePort, metadata };
}

const NO_CLUSTER: ClusterFields = { checkPort: 0, useInstancePort: false, metadata: {} };

function meta(r: Reader): MetaFields {
  let protectThreshold = 0;
  const metadata: Record<string, string> = {};
  let sel: SelectorFields | undefined;
  const clusters: Record<string, ClusterFields> = {};
  r.fields((n, w) => {
    if (n === 1 && is(w, 1)) protectThreshold = r.double();
    else if (n === 2 && is(w, 2)) stringEntry(r.sub(), metadata);
    else if (n === 3 && is(w, 2)) sel = selector(r.sub());
    else if (n === 4 && is(w, 2)) mapEntry(r.sub(), clusters, NO_CLUSTER, (v) => cluster(v.sub()));
    else return false;
    return true;
  });
  return { protectThreshold, metadata, selector: sel, clusters };
}

function entry(r: Reader): EntryFields {
  let id = "";
  let v: VersionFields | undefined;
  let i: InstanceFields | undefined;
  r.fields((n, w) => {
    if (n === 1 && is(w, 2)) id = r.string();
    else if (n === 2 && is(w, 2)) v = version(r.sub());
    else if (n === 3 && is(w, 2)) i = instance(r.sub());
    else return false;
    return true;
  });
  return { id, version: v, instance: i };
}

function datum(r: Reader): DatumFields {
  let key = "";
  let deleted = false;
  let m: MetaFields | undefined;
  let metaVersion: VersionFields | undefined;
  const entries: EntryFields[] = [];
  r.fields((n, w) => {
    if (n === 1 && is(w, 2)) key = r.string();
    else if (n === 2 && is(w, 0)) deleted = r.bool();
    else if (n === 3 && is(w, 2)) m = meta(r.sub());
    else if (n === 4 && is(w, 2)) metaVersion = version(r.sub());
    else if (n === 5 && is(w, 2)) entries.push(entry(r.sub()));
    else return false;
    return true;
  });
  return { key, deleted, meta: m, metaVersion, entries };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A SyncRequest: `repeated ServiceDatum datums = 1`. */
export function readSyncRequest(bytes: Uint8Array): { readonly datums: DatumFields[] } {
  const r = new Reader(asBuffer(bytes));
  const datums: DatumFields[] = [];
  r.fields((n, w) => {
    if (n !== 1 || !is(w, 2)) return false;
    datums.push(datum(r.sub()));
    return true;
  });
  return { datums };
}

/** A SnapshotResponse. */
export function readSnapshotChunk(bytes: Uint8Array): ChunkFields {
  const r = new Reader(asBuffer(bytes));
  const datums: DatumFields[] = [];
  let totalKeys: bigint | number = 0;
  let totalInstances: bigint | number = 0;
  let resumeToken = "";
  r.fields((n, w) => {
    if (n === 1 && is(w, 2)) datums.push(datum(r.sub()));
    else if (n === 2 && is(w, 0)) totalKeys = r.uint64();
    else if (n === 3 && is(w, 0)) totalInstances = r.uint64();
    else if (n === 4 && is(w, 2)) resumeToken = r.string();
    else return false;
    return true;
  });
  return { datums, totalKeys, totalInstances, resumeToken };
}
