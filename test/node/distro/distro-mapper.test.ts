import assert from "node:assert/strict";
import { test } from "node:test";
import { DistroMapper, distroHash, javaStringHash } from "../../../src/node/distro/distro-mapper.js";

// Vectors printed by a real JVM (String.hashCode and Math.abs(h % Integer.MAX_VALUE)).
const VECTORS: Array<[string, number, number]> = [
  ["DEFAULT_GROUP@@svc", 1899290687, 1899290687],
  ["DEFAULT_GROUP@@nacos.test.1", -301437168, 301437168],
  ["g@@a", 3132058, 3132058],
  ["", 0, 0],
  ["DEFAULT_GROUP@@服务", 1863218037, 1863218037],
  ["x".repeat(100), 1680682496, 1680682496],
  ["polygenelubricants", -2147483648, 1],
];

test("javaStringHash and distroHash match the JVM", () => {
  for (const [s, hash, distro] of VECTORS) {
    assert.equal(javaStringHash(s), hash, s);
    assert.equal(distroHash(s), distro, s);
  }
});

test("owner is healthy[hash % n] over the sorted list, identical on every node", () => {
  const members = ["127.0.0.1:8850", "127.0.0.1:8848", "127.0.0.1:8849"];
  const sorted = [...members].sort();
  const views = members.map((self) => {
    const m = new DistroMapper(self);
    m.update(members);
    return m;
  });
  for (const name of ["DEFAULT_GROUP@@svc", "g@@a", "DEFAULT_GROUP@@nacos.test.1"]) {
    const expected = sorted[distroHash(name) % 3];
    for (const v of views) assert.equal(v.ownerOf(name), expected);
    assert.equal(views.filter((v) => v.responsible(name)).length, 1, `exactly one owner of ${name}`);
  }
  assert.equal(new Set(views.map((v) => v.viewHash)).size, 1);
});

test("a node missing from its own list is responsible for everything; update reports change", () => {
  const m = new DistroMapper("127.0.0.1:9000");
  assert.equal(m.update(["127.0.0.1:8848"]), true);
  assert.equal(m.update(["127.0.0.1:8848"]), false);
  assert.equal(m.responsible("DEFAULT_GROUP@@svc"), true);
  assert.equal(m.ownerOf("DEFAULT_GROUP@@svc"), "127.0.0.1:8848");
});
