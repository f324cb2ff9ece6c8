/**
 * Whether a connection may speak for the member it names. Holding the cluster secret proves membership of
 * the cluster, not which member one is: without this check any holder could report, sync or verify in
 * another member's name. A claim is accepted when the connection comes from the member's own address (its IP,
 * or one its host name resolves to) and, under mutual TLS, when the client certificate names that host.
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import type { PeerCertificate } from "node:tls";
import { plainIp, splitAddress } from "../core/address.js";

/** Resolves a host name to its addresses. */
export type HostResolver = (host: string) => Promise<string[]>;

const systemResolver: HostResolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/** Equal IP addresses, whatever their spelling (`::1` and `0:0:0:0:0:0:0:1` are one address). */
function sameIp(a: string, b: string): boolean {
  const x = plainIp(a);
  const y = plainIp(b);
  if (x === y) return isIP(x) !== 0;
  const family = isIP(x);
  if (family === 0 || family !== isIP(y)) return false;
  const list = new BlockList();
  list.addAddress(x, family === 4 ? "ipv4" : "ipv6");
  return list.check(y, family === 4 ? "ipv4" : "ipv6");
}

/** The host names and IP addresses a certificate's subjectAltName lists. */
function certificateNames(cert: PeerCertificate): string[] {
  const san = cert.subjectaltname ?? "";
  return san
    .split(/,\s*/)
    .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry.trim())?.[1])
    .filter((name): name is string => name !== undefined);
}

export class PeerIdentity {
  private readonly cache = new Map<string, { readonly addresses: string[]; readonly at: number }>();

  constructor(
    private readonly resolve: HostResolver = systemResolver,
    private readonly cacheMs = 30_000,
  ) {}

  /** Why a connection from `remoteIp` may not speak for member `address`; undefined when it may. */
  async mismatch(address: string, remoteIp: string, certificate?: PeerCertificate): Promise<string | undefined> {
    const { host } = splitAddress(address);
    const addresses = isIP(host) !== 0 ? [host] : await this.addressesOf(host);
    if (!addresses.some((a) => sameIp(a, remoteIp))) {
      return `member ${address} is at ${addresses.join(", ") || "no address"}, but the call came from ${plainIp(remoteIp)}`;
    }
    if (certificate === undefined) return undefined;
    const names = certificateNames(certificate);
    const named = names.some((n) => (isIP(n) !== 0 ? sameIp(n, host) : n.toLowerCase() === host.toLowerCase()));
    return named ? undefined : `the client certificate names ${names.join(", ") || "no host"}, not member ${address}`;
  }

  private async addressesOf(host: string): Promise<string[]> {
    const cached = this.cache.get(host);
    const now = Date.now();
    if (cached !== undefined && now - cached.at < this.cacheMs) return cached.addresses;
    let addresses: string[];
    try {
      addresses = await this.resolve(host);
    } catch {
      addresses = [];
    }
    this.cache.set(host, { addresses, at: now });
    return addresses;
  }
}
