/**
 * Idle 2.x client connections (lean, nacos2-wire.ts) for counting what a server spends on each: set up, then
 * silent but for answering the server's requests. They come from several loopback source addresses, so a per-IP
 * limit of a thousand does not stand in the way of ten.
 */
import { Nacos2Wire } from "./nacos2-wire.js";

const SOURCE_ADDRESSES = 32;
const OPEN_AT_ONCE = 200;

/** `count` idle connections, opened a few hundred at a time; `close()` ends them all. */
export async function idleConnections(port: number, count: number): Promise<{ readonly open: number; close(): void }> {
  const held: Nacos2Wire[] = [];
  for (let first = 0; first < count; first += OPEN_AT_ONCE) {
    const batch = Array.from({ length: Math.min(OPEN_AT_ONCE, count - first) }, (_, i) =>
      Nacos2Wire.open(port, `127.0.0.${2 + ((first + i) % SOURCE_ADDRESSES)}`),
    );
    for (const r of await Promise.allSettled(batch)) if (r.status === "fulfilled") held.push(r.value);
  }
  return {
    open: held.length,
    close() {
      for (const c of held) c.close();
    },
  };
}
