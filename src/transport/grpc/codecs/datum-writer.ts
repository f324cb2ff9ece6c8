/**
 * ServiceDatum messages written straight from the domain objects into protobuf bytes, in two passes (sizes,
 * then bytes into one buffer), without the intermediate message objects and chunk lists of `create()` +
 * `toBinary()` — the sender's cost of a snapshot. It writes exactly what protobuf-es writes for the same values
 * (fields in number order, defaults left out, both halves of every map entry), which the codec tests check
 * byte for byte, so the wire contract stays the generated code's.
 */
import type { ClusterSettings, HealthChecker } from "../../../core/cluster-settings.js";
import type { ConnectionBinding, Instance, Metadata } from "../../../core/instance.js";
import type { ServiceDatum, ServiceMeta } from "../../../core/service-datum.js";
import type { Version } from "../../../core/version.js";
import type { SnapshotChunk } from "../../../node/ports.js";

const VARINT = 0;
const BIT64 = 1;
const LEN = 2;

function varintSize(n: number): number {
  let size = 1;
  for (let rest = n; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}
const utf8 = (s: string): number => Buffer.byteLength(s, "utf8");
/** A length-delimited field of `size` bytes, tag (fields < 16: one byte) and length prefix included. */
const delimited = (size: number): number => 1 + varintSize(size) + size;
const stringField = (s: string): number => (s === "" ? 0 : delimited(utf8(s)));

// ---- pass 1: sizes ----

function mapSize(m: Metadata): number {
  let n = 0;
  for (const k in m) n += delimited(delimited(utf8(k)) + delimited(utf8(m[k]!)));
  return n;
}

const versionSize = (v: Version): number => (v.counter === 0 ? 0 : 1 + varintSize(v.counter)) + stringField(v.writer);

const bindingSize = (b: ConnectionBinding): number => stringField(b.node) + stringField(b.connectionId);

function instanceSize(i: Instance): number {
  return (
    stringField(i.instanceId) +
    stringField(i.ip) +
    (i.port === 0 ? 0 : 1 + varintSize(i.port)) +
    (i.weight === 0 && !Object.is(i.weight, -0) ? 0 : 9) +
    (i.healthy ? 2 : 0) +
    (i.enabled ? 2 : 0) +
    (i.ephemeral ? 2 : 0) +
    stringField(i.clusterName) +
    stringField(i.serviceName) +
    mapSize(i.metadata) +
    stringField(i.app) +
    (i.marked ? 2 : 0) +
    (i.connection === undefined ? 0 : delimited(bindingSize(i.connection)))
  );
}

const selectorSize = (m: ServiceMeta): number => (m.selector.type === "none" ? 2 : delimited(stringField(m.selector.expression)));

const uintField = (n: number): number => (n === 0 ? 0 : 1 + varintSize(n));

const httpSize = (c: Extract<HealthChecker, { type: "HTTP" }>): number =>
  stringField(c.path) + stringField(c.headers) + uintField(c.expectedResponseCode);

/** The HealthChecker message: its one case, an empty message unless HTTP. */
const checkerSize = (c: HealthChecker): number => (c.type === "HTTP" ? delimited(httpSize(c)) : 2);

const clusterSize = (s: ClusterSettings): number =>
  delimited(checkerSize(s.healthChecker)) + uintField(s.checkPort) + (s.useInstancePort4Check ? 2 : 0) + mapSize(s.metadata);

function clustersSize(m: ServiceMeta): number {
  let n = 0;
  for (const name in m.clusters) n += delimited(delimited(utf8(name)) + delimited(clusterSize(m.clusters[name]!)));
  return n;
}

const metaSize = (m: ServiceMeta): number =>
  (m.protectThreshold === 0 && !Object.is(m.protectThreshold, -0) ? 0 : 9) +
  mapSize(m.metadata) +
  delimited(selectorSize(m)) +
  clustersSize(m);

/** A datum's sizes, computed once for both passes. */
interface Sized {
  readonly datum: ServiceDatum;
  readonly entries: readonly number[];
  readonly instances: readonly number[];
  readonly meta: number;
  readonly size: number;
}

function sized(d: ServiceDatum): Sized {
  const instances = d.entries.map((e) => (e.instance === undefined ? 0 : instanceSize(e.instance)));
  const entries = d.entries.map(
    (e, n) => stringField(e.id) + delimited(versionSize(e.version)) + (e.instance === undefined ? 0 : delimited(instances[n]!)),
  );
  const meta = metaSize(d.meta);
  let size = stringField(d.key) + (d.deleted ? 2 : 0) + delimited(meta) + delimited(versionSize(d.metaVersion));
  for (const e of entries) size += delimited(e);
  return { datum: d, entries, instances, meta, size };
}

// ---- pass 2: bytes ----

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.buf[this.pos++] = n;
  }

  tag(field: number, type: number): void {
    this.buf[this.pos++] = (field << 3) | type;
  }

  string(field: number, s: string): void {
    if (s !== "") this.text(field, s);
  }

  /** A string field written even when empty (the halves of a map entry). */
  text(field: number, s: string): void {
    this.tag(field, LEN);
    this.varint(utf8(s));
    this.pos += this.buf.write(s, this.pos, "utf8");
  }

  bool(field: number, b: boolean): void {
    if (!b) return;
    this.tag(field, VARINT);
    this.buf[this.pos++] = 1;
  }

  double(field: number, x: number): void {
    if (x === 0 && !Object.is(x, -0)) return;
    this.tag(field, BIT64);
    this.pos = this.buf.writeDoubleLE(x, this.pos);
  }

  uint(field: number, n: number): void {
    if (n === 0) return;
    this.tag(field, VARINT);
    this.varint(n);
  }

  open(field: number, size: number): void {
    this.tag(field, LEN);
    this.varint(size);
  }

  map(field: number, m: Metadata): void {
    for (const k in m) {
      const v = m[k]!;
      this.open(field, delimited(utf8(k)) + delimited(utf8(v)));
      this.text(1, k);
      this.text(2, v);
    }
  }

  checker(c: HealthChecker): void {
    this.open(1, checkerSize(c));
    if (c.type === "TCP") this.open(1, 0);
    else if (c.type === "NONE") this.open(3, 0);
    else {
      this.open(2, httpSize(c));
      this.string(1, c.path);
      this.string(2, c.headers);
      this.uint(3, c.expectedResponseCode);
    }
  }

  clusters(field: number, clusters: ServiceMeta["clusters"]): void {
    for (const name in clusters) {
      const s = clusters[name]!;
      const size = clusterSize(s);
      this.open(field, delimited(utf8(name)) + delimited(size));
      this.text(1, name);
      this.open(2, size);
      this.checker(s.healthChecker);
      this.uint(2, s.checkPort);
      this.bool(3, s.useInstancePort4Check);
      this.map(4, s.metadata);
    }
  }

  version(field: number, v: Version): void {
    this.open(field, versionSize(v));
    this.uint(1, v.counter);
    this.string(2, v.writer);
  }

  instance(i: Instance, size: number): void {
    this.open(3, size);
    this.string(1, i.instanceId);
    this.string(2, i.ip);
    this.uint(3, i.port);
    this.double(4, i.weight);
    this.bool(5, i.healthy);
    this.bool(6, i.enabled);
    this.bool(7, i.ephemeral);
    this.string(8, i.clusterName);
    this.string(9, i.serviceName);
    this.map(10, i.metadata);
    this.string(11, i.app);
    this.bool(12, i.marked);
    if (i.connection !== undefined) {
      this.open(13, bindingSize(i.connection));
      this.string(1, i.connection.node);
      this.string(2, i.connection.connectionId);
    }
  }

  datum(field: number, { datum: d, entries, instances, meta, size }: Sized): void {
    this.open(field, size);
    this.string(1, d.key);
    this.bool(2, d.deleted);
    this.open(3, meta);
    this.double(1, d.meta.protectThreshold);
    this.map(2, d.meta.metadata);
    this.open(3, selectorSize(d.meta));
    if (d.meta.selector.type === "none") this.open(1, 0);
    else {
      this.open(2, stringField(d.meta.selector.expression));
      this.string(1, d.meta.selector.expression);
    }
    this.clusters(4, d.meta.clusters);
    this.version(4, d.metaVersion);
    for (const [n, e] of d.entries.entries()) {
      this.open(5, entries[n]!);
      this.string(1, e.id);
      this.version(2, e.version);
      if (e.instance !== undefined) this.instance(e.instance, instances[n]!);
    }
  }
}

/** Bytes of `datums` as `repeated ServiceDatum` field 1, written after their sizes. */
function datumsField(datums: readonly ServiceDatum[], extra: number): { readonly w: Writer; readonly all: readonly Sized[] } {
  const all = datums.map(sized);
  let size = extra;
  for (const d of all) size += delimited(d.size);
  return { w: new Writer(Buffer.allocUnsafe(size)), all };
}

/** A SyncRequest's bytes (`repeated ServiceDatum datums = 1`). */
export function writeSyncRequest(datums: readonly ServiceDatum[]): Uint8Array {
  const { w, all } = datumsField(datums, 0);
  for (const d of all) w.datum(1, d);
  return w.buf;
}

/** A SnapshotResponse's bytes. */
export function writeSnapshotChunk(c: SnapshotChunk): Uint8Array {
  const tail =
    (c.totalKeys === 0 ? 0 : 1 + varintSize(c.totalKeys)) +
    (c.totalInstances === 0 ? 0 : 1 + varintSize(c.totalInstances)) +
    stringField(c.resumeToken);
  const { w, all } = datumsField(c.datums, tail);
  for (const d of all) w.datum(1, d);
  w.uint(2, c.totalKeys);
  w.uint(3, c.totalInstances);
  w.string(4, c.resumeToken);
  return w.buf;
}
