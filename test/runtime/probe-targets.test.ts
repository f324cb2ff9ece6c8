import assert from "node:assert/strict";
import { test } from "node:test";
import { ProbeTargets, type ProbeTargetRules } from "../../src/runtime/probe-targets.js";

const rules = (overrides: Partial<ProbeTargetRules> = {}): ProbeTargetRules => ({
  allow: [],
  loopback: true,
  ownPorts: [8848, 9849],
  localAddresses: ["192.0.2.5", "2001:db8::5"],
  ...overrides,
});

test("link-local, unspecified, multicast and broadcast targets are refused whatever the options, IPv4-mapped too", () => {
  const targets = new ProbeTargets(rules({ allow: ["0.0.0.0/0", "::/0"] }));
  const cases: Array<[string, RegExp]> = [
    ["169.254.169.254", /link-local/],
    ["::ffff:169.254.169.254", /link-local/],
    ["::ffff:a9fe:a9fe", /link-local/],
    ["fe80::1", /link-local/],
    ["0.0.0.0", /unspecified/],
    ["::", /unspecified/],
    ["224.0.0.1", /multicast/],
    ["ff02::1", /multicast/],
    ["255.255.255.255", /broadcast/],
  ];
  for (const [ip, reason] of cases) assert.match(targets.refusal(ip, 80) ?? "allowed", reason, ip);
});

test("this node's own ports are refused on every address of this host, and only there", () => {
  const targets = new ProbeTargets(rules());
  for (const ip of ["127.0.0.1", "127.1.2.3", "::1", "192.0.2.5", "2001:db8::5", "::ffff:127.0.0.1"]) {
    for (const port of [8848, 9849]) assert.equal(targets.refusal(ip, port), "a port of this node", `${ip}:${port}`);
    assert.equal(targets.refusal(ip, 8080), undefined, `${ip}:8080`);
  }
  assert.equal(targets.refusal("192.0.2.6", 8848), undefined, "the same port on another host");
});

test("loopback is probed unless turned off; an allow list narrows every target", () => {
  assert.equal(new ProbeTargets(rules()).refusal("127.0.0.1", 8080), undefined);
  const noLoopback = new ProbeTargets(rules({ loopback: false }));
  for (const ip of ["127.0.0.1", "127.9.9.9", "::1"]) assert.match(noLoopback.refusal(ip, 8080) ?? "allowed", /loopback/, ip);
  assert.equal(noLoopback.refusal("192.0.2.10", 8080), undefined);
  const listed = new ProbeTargets(rules({ allow: ["198.51.100.0/24", "2001:db8:1::/48", "192.0.2.10"] }));
  for (const ip of ["198.51.100.7", "2001:db8:1::9", "192.0.2.10"]) assert.equal(listed.refusal(ip, 8080), undefined, ip);
  for (const ip of ["192.0.2.11", "203.0.113.1", "127.0.0.1", "2001:db8:2::1"]) {
    assert.equal(listed.refusal(ip, 8080), "outside --health-check-allow", ip);
  }
});
