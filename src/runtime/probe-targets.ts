/**
 * Which addresses server-side health checks may probe. Anyone who may write a persistent instance (everyone,
 * with auth off) chooses where the responsible node connects every few seconds and reads back through
 * `healthy` whether something answered, so some targets are never probed: link-local addresses (cloud
 * metadata endpoints live at 169.254.169.254), unspecified, multicast and broadcast addresses, and this node's
 * own ports on any address of this host. Loopback is probed unless `--health-check-loopback false` (single-host
 * clusters and tests register loopback instances); `--health-check-allow` narrows every target to its list.
 */
import { BlockList, isIP } from "node:net";

export interface ProbeTargetRules {
  /** IPs/CIDRs a target must be in; empty: anywhere not refused otherwise. */
  readonly allow: readonly string[];
  /** Whether loopback addresses may be probed. */
  readonly loopback: boolean;
  /** The ports this node listens on, refused on every address of this host. */
  readonly ownPorts: readonly number[];
  /** The addresses of this host besides loopback and unspecified (its interfaces, its member IP). */
  readonly localAddresses: readonly string[];
}

const family = (ip: string): "ipv4" | "ipv6" => (isIP(ip) === 6 ? "ipv6" : "ipv4");

/** A list of addresses and CIDR blocks (`10.0.0.0/8`, `fe80::/10`, `192.0.2.7`). */
function listOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip, bits] = entry.split("/") as [string, string | undefined];
    if (bits === undefined) list.addAddress(ip, family(ip));
    else list.addSubnet(ip, Number(bits), family(ip));
  }
  return list;
}

/** Never probed, whatever the options say; IPv4-mapped IPv6 addresses (`::ffff:169.254.169.254`) match too. */
const NEVER: ReadonlyArray<readonly [string, readonly string[]]> = [
  ["a link-local address", ["169.254.0.0/16", "fe80::/10"]],
  ["an unspecified address", ["0.0.0.0/8", "::/128"]],
  ["a multicast address", ["224.0.0.0/4", "ff00::/8"]],
  ["the broadcast address", ["255.255.255.255/32"]],
];

const LOOPBACK = ["127.0.0.0/8", "::1/128"];

export class ProbeTargets {
  private readonly never = NEVER.map(([reason, blocks]) => [reason, listOf(blocks)] as const);
  private readonly loopback = listOf(LOOPBACK);
  private readonly local: BlockList;
  private readonly allow: BlockList | undefined;

  constructor(private readonly rules: ProbeTargetRules) {
    this.local = listOf([...LOOPBACK, ...rules.localAddresses]);
    this.allow = rules.allow.length === 0 ? undefined : listOf(rules.allow);
  }

  /** Why `ip:port` may not be probed (for the log), or undefined when it may. `ip` is an IP address. */
  refusal(ip: string, port: number): string | undefined {
    const type = family(ip);
    for (const [reason, list] of this.never) if (list.check(ip, type)) return reason;
    if (this.rules.ownPorts.includes(port) && this.local.check(ip, type)) return "a port of this node";
    if (!this.rules.loopback && this.loopback.check(ip, type)) return "a loopback address (--health-check-loopback is false)";
    if (this.allow !== undefined && !this.allow.check(ip, type)) return "outside --health-check-allow";
    return undefined;
  }
}
