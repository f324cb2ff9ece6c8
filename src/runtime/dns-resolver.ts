/** Members' host names resolved as the system resolves them (/etc/hosts, then DNS), for node/cluster/member-names.ts. */
import { lookup } from "node:dns/promises";
import type { NameResolver } from "../node/ports.js";

export const dnsResolver: NameResolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address);
