import assert from "node:assert/strict";
import { test } from "node:test";
import { NacosError } from "../../../src/core/errors.js";
import { BoundInstances } from "../../../src/core/bound-instances.js";
import { LastBeats } from "../../../src/core/last-beats.js";
import { NamingService } from "../../../src/core/naming-service.js";
import type { ClientWrite } from "../../../src/core/ops.js";
import { Registry } from "../../../src/core/registry.js";
import { defaultSwitches } from "../../../src/core/switches.js";
import { ClientWriteRouter } from "../../../src/node/distro/client-write-router.js";
import { DistroMapper, distroHash } from "../../../src/node/distro/distro-mapper.js";
import { PeerError, type ForwardOutcome } from "../../../src/node/ports.js";
import { stubTransport, testSpec } from "../../support/fixtures.js";

const SELF = "127.0.0.1:8848";
const OTHER = "127.0.0.2:8848";

/** A service name the other member owns in a two-member view. */
function ownedByOther(): string {
  const sorted = [SELF, OTHER].sort();
  for (let i = 0; ; i++) if (sorted[distroHash(`DEFAULT_GROUP@@r${i}`) % 2] === OTHER) return `DEFAULT_GROUP@@r${i}`;
}

function setup(forward: (peer: string, op: ClientWrite) => Promise<ForwardOutcome>) {
  const registry = new Registry(SELF, () => 1);
  const naming = new NamingService(registry, new LastBeats(() => 1), defaultSwitches(), () => true, new BoundInstances(registry, () => 1));
  const mapper = new DistroMapper(SELF);
  mapper.update([SELF, OTHER]);
  const calls: Array<[string, ClientWrite]> = [];
  const transport = stubTransport({
    forward: (peer, op) => {
      calls.push([peer, op]);
      return forward(peer, op);
    },
  });
  return { router: new ClientWriteRouter(mapper, naming, transport, (bound) => naming.execute(bound)), registry, calls };
}

const op = (groupedName: string): ClientWrite => ({
  type: "register",
  service: { namespaceId: "public", groupedName },
  instance: testSpec("192.0.2.1", 80),
});

test("a write for another owner is forwarded once, and its answer (or refusal) comes back as is", async () => {
  const name = ownedByOther();
  const { router, registry, calls } = setup(async () => ({ ok: false, status: 400, message: "refused there" }));
  await assert.rejects(
    router.write(op(name)),
    (e: unknown) => e instanceof NacosError && e.status === 400 && e.message === "refused there",
  );
  assert.deepEqual(
    calls.map(([peer]) => peer),
    [OTHER],
  );
  assert.equal(registry.size, 0, "nothing applied locally");
});

test("a forwarded write is executed here even if another node owns it (never forwarded twice)", async () => {
  const name = ownedByOther();
  const { router, registry, calls } = setup(async () => ({ ok: true, result: { type: "ok" } }));
  assert.deepEqual(await router.onForward(op(name)), { ok: true, result: { type: "ok" } });
  assert.equal(calls.length, 0);
  assert.equal(registry.instanceCount, 1);
});

test("an unreachable owner is a clear 503, not a hang", async () => {
  const { router } = setup(async (peer) => {
    throw new PeerError("refused", peer, "connection refused");
  });
  await assert.rejects(
    router.write(op(ownedByOther())),
    (e: unknown) => e instanceof NacosError && e.status === 503 && /responsible server 127\.0\.0\.2:8848 .* is unreachable/.test(e.message),
  );
});

test("a 2.x connection's write runs where the connection is, even for a service another node owns", async () => {
  const name = ownedByOther();
  const { router, registry, calls } = setup(async () => ({ ok: true, result: { type: "ok" } }));
  const connection = { node: SELF, connectionId: "c1" };
  await router.write({
    type: "register",
    service: { namespaceId: "public", groupedName: name },
    instance: testSpec("192.0.2.1", 80),
    connection,
  });
  assert.equal(calls.length, 0, "never forwarded to the owner");
  assert.equal(registry.instanceCount, 1);
});
