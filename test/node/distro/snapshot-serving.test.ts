/**
 * How many snapshot streams a node serves at once: a slot is taken per stream and freed however the stream
 * ends (read to the end, failed, returned early, even before its first chunk), so readers cannot pile up
 * streams and the memory each holds.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { silentLog } from "../../../src/core/log.js";
import { Registry } from "../../../src/core/registry.js";
import { DistroMapper } from "../../../src/node/distro/distro-mapper.js";
import { DistroProtocol } from "../../../src/node/distro/distro-protocol.js";
import { VirtualScheduler } from "../../../src/sim/virtual-scheduler.js";
import { BusyError } from "../../../src/node/ports.js";
import { defaultNodeConfig } from "../../../src/runtime/options.js";
import { stubTransport } from "../../support/fixtures.js";

const DISTRO = defaultNodeConfig("127.0.0.1:8848").distro;

const SELF = "127.0.0.1:8848";

async function readyNode(maxStreams: number): Promise<DistroProtocol> {
  const scheduler = new VirtualScheduler(1, 0);
  const transport = stubTransport({});
  const distro = new DistroProtocol(
    {
      self: SELF,
      registry: new Registry(SELF, () => scheduler.now()),
      mapper: new DistroMapper(SELF),
      transport,
      scheduler,
      peers: () => [],
      snapshotSources: () => [],
      purgeHorizon: () => 0,
      log: silentLog,
    },
    { ...DISTRO, snapshot: { ...DISTRO.snapshot, maxStreams } },
  );
  await distro.start(false);
  return distro;
}

test("beyond its stream limit a node answers busy; each way a stream ends frees its slot", async () => {
  const distro = await readyNode(2);
  const first = distro.onSnapshot("")[Symbol.asyncIterator]();
  const second = distro.onSnapshot("")[Symbol.asyncIterator]();
  assert.throws(() => distro.onSnapshot(""), BusyError);
  assert.equal(distro.servingSnapshots, 2);
  await first.return?.(); // returned before its first chunk
  assert.equal(distro.servingSnapshots, 1);
  const third = distro.onSnapshot("")[Symbol.asyncIterator]();
  for (let r = await second.next(); r.done !== true; r = await second.next()); // read to the end
  assert.equal(distro.servingSnapshots, 1);
  await third.return?.();
  await third.return?.(); // twice frees once
  assert.equal(distro.servingSnapshots, 0);
  distro.close();
});
