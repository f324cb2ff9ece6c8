import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultSwitches } from "../../src/core/switches.js";
import {
  acceptsUdpPush,
  compareClientVersions,
  parseClientAgent,
  parseClientVersion,
  wantsGroupedNames,
} from "../../src/push/client-agent.js";

test("agents are typed by their prefix and versioned after ':v', as 1.4's ClientInfo", () => {
  assert.deepEqual(parseClientAgent("Nacos-Java-Client:v1.4.1"), {
    type: "java",
    version: { major: 1, minor: 4, patch: 1, suffixed: false },
  });
  assert.equal(parseClientAgent("Nacos-Go-Client:v2.0").type, "go");
  assert.equal(parseClientAgent("Nacos-DNS:v1.0.0").type, "dns");
  assert.equal(parseClientAgent("Nacos-C-Client:v1.0.12").type, "c");
  assert.equal(parseClientAgent("Nacos-CSharp-Client:v0.9.0").type, "csharp");
  assert.equal(parseClientAgent("Nacos-SDK-Java:v2.0.0").type, "java-sdk");
  assert.equal(parseClientAgent("Nacos-Server:v1.4.1").type, "server");
  assert.deepEqual(parseClientAgent("Mozilla/5.0"), {
    type: "unknown",
    version: { major: 0, minor: 0, patch: 0, suffixed: false },
  });
  assert.deepEqual(parseClientAgent(""), parseClientAgent("curl/8"));
});

test("versions parse like Jackson's VersionUtil and a suffix sorts before the release", () => {
  assert.deepEqual(parseClientVersion("1.0.0-SNAPSHOT"), { major: 1, minor: 0, patch: 0, suffixed: true });
  assert.deepEqual(parseClientVersion("2.1"), { major: 2, minor: 1, patch: 0, suffixed: false });
  assert.deepEqual(parseClientVersion("1.2x.3"), { major: 1, minor: 2, patch: 3, suffixed: false });
  assert.deepEqual(parseClientVersion("  "), { major: 0, minor: 0, patch: 0, suffixed: false });
  const v = parseClientVersion;
  assert.equal(compareClientVersions(v("1.0.0"), v("1.0.0")), 0);
  assert.equal(compareClientVersions(v("1.0.10"), v("1.0.9")), 1);
  assert.equal(compareClientVersions(v("0.9.9"), v("1.0.0")), -1);
  assert.equal(compareClientVersions(v("1.0.0-SNAPSHOT"), v("1.0.0")), -1);
});

test("grouped names only for Java clients at 1.0.0 or later (the npm SDK claims exactly that)", () => {
  assert.equal(wantsGroupedNames("Nacos-Java-Client:v1.0.0"), true);
  assert.equal(wantsGroupedNames("Nacos-Java-Client:v1.4.1"), true);
  assert.equal(wantsGroupedNames("Nacos-Java-Client:v0.9.0"), false);
  assert.equal(wantsGroupedNames("Nacos-Java-Client:v1.0.0-SNAPSHOT"), false);
  assert.equal(wantsGroupedNames("Nacos-Go-Client:v1.2.0"), false);
  assert.equal(wantsGroupedNames(""), false);
});

test("UDP push needs the switch on and a known agent at or above its minimum", () => {
  const switches = defaultSwitches();
  assert.equal(acceptsUdpPush("Nacos-Java-Client:v1.0.0", switches), true);
  assert.equal(acceptsUdpPush("Nacos-Go-Client:v0.1.0", switches), true);
  assert.equal(acceptsUdpPush("Nacos-DNS:v0.4.3", switches), true);
  assert.equal(acceptsUdpPush("Nacos-DNS:v0.4.2", switches), false);
  assert.equal(acceptsUdpPush("Nacos-C-Client:v1.0.11", switches), false);
  assert.equal(acceptsUdpPush("Nacos-CSharp-Client:v0.9.0", switches), true);
  assert.equal(acceptsUdpPush("Nacos-SDK-Java:v2.0.0", switches), false);
  assert.equal(acceptsUdpPush("Nacos-Server:v1.4.1", switches), false);
  assert.equal(acceptsUdpPush("curl/8.0", switches), false);
  switches.pushJavaVersion = "1.2.0";
  assert.equal(acceptsUdpPush("Nacos-Java-Client:v1.0.0", switches), false);
  switches.pushJavaVersion = "0.1.0";
  switches.pushEnabled = false;
  assert.equal(acceptsUdpPush("Nacos-Java-Client:v1.0.0", switches), false);
});
