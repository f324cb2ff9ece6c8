/**
 * `durable-writes` (in-process): writes per second the data directory's log makes durable — each write a
 * persistent instance's record, acknowledged only after its fdatasync — with 64 writers waiting at once (group
 * commit: one write and one fdatasync per batch) and with one writer at a time. Reference: the simplest
 * durable store, one append and one fdatasync per write, run side by side in the same directory tree. The
 * ratio is what group commit buys under concurrency; the one-writer row shows the log costs nothing extra.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLog } from "../../src/core/log.js";
import { RecordLog } from "../../src/store/record-log.js";
import { row, type Figure } from "../lib/figure.js";

/** A persistent instance's record, about the size the node stores. */
function record(n: number): { key: string; value: object } {
  const ip = `192.0.2.${n % 250}`;
  const instance = { ip, port: 8080 + n, weight: 1, healthy: true, enabled: true, ephemeral: false, clusterName: "DEFAULT" };
  const value = {
    key: "public##DEFAULT_GROUP@@orders",
    id: `${ip}:${8080 + n}:unknown:DEFAULT:persist`,
    version: { counter: n, writer: "127.0.0.1:8848" },
    instance,
  };
  return { key: `e\u0000orders\u0000${n}`, value };
}

async function logRate(dir: string, writes: number, writers: number): Promise<number> {
  const log = await RecordLog.open(dir, silentLog);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < writes) {
        const { key, value } = record(next++);
        log.put(key, value);
        await log.durable();
      }
    }),
  );
  const rate = writes / ((performance.now() - started) / 1000);
  await log.close();
  return rate;
}

/** One append and one fdatasync per write, whatever the concurrency: writers queue behind each other. */
function naiveRate(dir: string, writes: number): number {
  const fd = openSync(join(dir, "naive.log"), "a");
  const started = performance.now();
  for (let n = 0; n < writes; n++) {
    const { key, value } = record(n);
    writeSync(fd, `${JSON.stringify([key, value])}\n`);
    fdatasyncSync(fd);
  }
  const rate = writes / ((performance.now() - started) / 1000);
  closeSync(fd);
  return rate;
}

export const figure: Figure = {
  name: "durable-writes",
  title: "durable writes/s of the data directory's log (group commit) vs one fdatasync per write",
  inProcess: true,
  async run(ctx) {
    const writes = ctx.pick({ smoke: 200, quick: 2_000, default: 5_000, full: 20_000 });
    const root = mkdtempSync(join(tmpdir(), "ts-nacos-bench-durable-"));
    try {
      const naive = naiveRate(root, writes);
      const concurrent = await logRate(join(root, "concurrent"), writes, 64);
      const single = await logRate(join(root, "single"), Math.min(writes, 2_000), 1);
      const naiveSingle = naiveRate(root, Math.min(writes, 2_000));
      const note = `${writes.toLocaleString("en-US")} records of ~300 B under ${tmpdir()}`;
      return {
        rows: [
          row("64 writers waiting at once", concurrent, naive, "writes/s", "higher", `${note}; reference: one fdatasync per write`),
          row("one writer at a time", single, naiveSingle, "writes/s", "≈ 1.00", "each write waits for its own fdatasync on both sides"),
        ],
        raw: { writes, concurrent, single, naive, naiveSingle },
      };
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
};
