/** Member addresses (`ip:port`, IPv6 bracketed) and client IPs, as every layer writes and reads them. */
import { isPort } from "./instance.js";

/** Nacos's convention: a member's cluster gRPC port is its HTTP port + 1001. */
export const GRPC_PORT_OFFSET = 1001;
/** ... and the port 2.x clients connect to is its HTTP port + 1000 (the clients assume it). */
export const CLIENT_GRPC_PORT_OFFSET = 1000;

/** `ip[:port]` → `ip:port`; IPv6 must be bracketed as in cluster.conf. Throws on anything else. */
export function normalizeAddress(raw: string, defaultPort = 8848): string {
  const text = raw.trim();
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text);
  const v4 = /^([0-9A-Za-z.-]+)(?::(\d+))?$/.exec(text);
  const match = v6 ?? v4;
  if (match === null) throw new Error(`invalid member address: '${raw}'`);
  const port = match[2] === undefined ? defaultPort : Number(match[2]);
  if (!isPort(port) || port === 0) throw new Error(`invalid port in member address: '${raw}'`);
  return v6 !== null ? `[${match[1]}]:${port}` : `${match[1]}:${port}`;
}

/** `host:port`, bracketing an IPv6 host. */
export function joinAddress(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(":");
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(address.slice(at + 1)) };
}

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) → `1.2.3.4`. */
export const plainIp = (ip: string): string => ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
