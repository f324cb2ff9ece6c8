/** 1.4's checksums as a JVM running 1.4's code computes them, not as our own output says. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { datumChecksum, javaDouble, nacos14Checksum, nacos14Instances } from "../../src/core/checksum.js";
import { Registry } from "../../src/core/registry.js";
import { DEFAULT_SERVICE_META } from "../../src/core/service-datum.js";
import { PINNED_CHECKSUMS } from "../support/nacos14-checksums.js";

test("the Distro datum checksum of each list equals what Nacos 1.4's Instances.getChecksum printed in a JVM", () => {
  const registry = new Registry("127.0.0.1:8848", () => 1_700_000_000_000);
  for (const pinned of PINNED_CHECKSUMS) {
    const key = `public##DEFAULT_GROUP@@${pinned.name}`;
    registry.commit(key, { deleted: false, meta: DEFAULT_SERVICE_META, instances: pinned.instances(`DEFAULT_GROUP@@${pinned.name}`) });
    assert.equal(nacos14Checksum(registry.service(key)!), pinned.checksum, pinned.name);
    assert.equal(datumChecksum(nacos14Instances(registry.get(key)!)), pinned.checksum, `${pinned.name}, from the datum`);
    // The order instances arrive in is not the order 1.4 hashes them in.
    const reversed = nacos14Instances(registry.get(key)!).reverse();
    assert.equal(datumChecksum(reversed), pinned.checksum, `${pinned.name}, reversed`);
  }
});

test("weights print as Java's Double.toString prints them", () => {
  // `Double.toString` of each value, printed by OpenJDK 17.0.15 (a loop over the array printing each).
  const java: Array<[number, string]> = [
    [0, "0.0"],
    [1, "1.0"],
    [2.5, "2.5"],
    [0.001, "0.001"],
    [0.0015, "0.0015"],
    [9.99e-4, "9.99E-4"],
    [1e-4, "1.0E-4"],
    [1.5e-5, "1.5E-5"],
    [1 / 3, "0.3333333333333333"],
    [10000, "10000.0"],
    [9999.99, "9999.99"],
    [1e7, "1.0E7"],
    [1.25e7, "1.25E7"],
    [123456.789, "123456.789"],
  ];
  for (const [value, printed] of java) assert.equal(javaDouble(value), printed, String(value));
});
