/**
 * Whether a connection may speak for the member it names. Holding the cluster secret proves membership of
 * the cluster, not which member one is: without this check any holder could report, sync or verify in
 * another member's name. A claim is accepted when the connection comes from the member's own address (its IP,
 * or one its host name resolves to now) and, under mutual TLS, when the client certificate names that host.
 * A member whose address comes from a name (a host name, or a record of `--members-dns`) that resolves to a
 * loopback address is on this host, and a call from any loopback address may speak for it: every process here
 * may send from any loopback address, so which one a call comes from says nothing about which local process
 * made it (the secret and, under mutual TLS, the certificates tell them apart). Members configured as IP
 * literals keep the exact check, loopback ones included.
 */
import { BlockList, isIP } from "node:net";
import type { PeerCertificate } from "node:tls";
import { plainIp, splitAddress } from "../core/address.js";

/** Where members' host names resolve now, and how to ask again (node/cluster/member-names.ts). */
export interface MemberAddressBook {
  addressesOf(host: string): readonly string[];
  /** Resolves the name again (rate-limited by the book), resolving to its addresses then. */
  refresh(host: string): Promise<readonly string[]>;
}

/** With every member an IP: a member is at its IP, and no name resolves. */
const literalOnly: MemberAddressBook = {
  addressesOf: (host) => (isIP(host) !== 0 ? [host] : []),
  refresh: async (host) => (isIP(host) !== 0 ? [host] : []),
};

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

const isLoopback = (ip: string): boolean => {
  const family = isIP(ip);
  return family !== 0 && LOOPBACK.check(ip, family === 4 ? "ipv4" : "ipv6");
};
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

/** Addresses of one host: equal, or both loopback (see the top of this file). */
const sameHost = (a: string, b: string): boolean => sameIp(a, b) || (isLoopback(plainIp(a)) && isLoopback(plainIp(b)));

/** The host names and IP addresses a certificate's subjectAltName lists. */
function certificateNames(cert: PeerCertificate): string[] {
  const san = cert.subjectaltname ?? "";
  return san
    .split(/,\s*/)
    .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry.trim())?.[1])
    .filter((name): name is string => name !== undefined);
}

export class PeerIdentity {
  constructor(
    private readonly book: MemberAddressBook = literalOnly,
    /** The members are the records of a DNS name (`--members-dns`): every member's address came from a name. */
    private readonly membersFromDns = false,
  ) {}

  /** Why a connection from `remoteIp` may not speak for member `address`; undefined when it may. */
  async mismatch(address: string, remoteIp: string, certificate?: PeerCertificate): Promise<string | undefined> {
    const { host } = splitAddress(address);
    const named = this.membersFromDns || isIP(host) === 0;
    const from = (addresses: readonly string[]): boolean => addresses.some((a) => (named ? sameHost(a, remoteIp) : sameIp(a, remoteIp)));
    let addresses = this.book.addressesOf(host);
    // The member may have moved since its name was last resolved (a pod back with a new IP): ask again.
    if (!from(addresses) && isIP(host) === 0) addresses = await this.book.refresh(host);
    if (!from(addresses)) {
      return `member ${address} is at ${addresses.join(", ") || "no address"}, but the call came from ${plainIp(remoteIp)}`;
    }
    if (certificate === undefined) return undefined;
    const names = certificateNames(certificate);
    const certified = names.some((n) => (isIP(n) !== 0 ? sameIp(n, host) : n.toLowerCase() === host.toLowerCase()));
    return certified ? undefined : `the client certificate names ${names.join(", ") || "no host"}, not member ${address}`;
  }
}
