/**
 * How a node is put together, the one place that wires its parts, for the real process (runtime/server.ts)
 * and the simulator (sim/sim-cluster.ts) alike: the member table is the directory every transport looks peers
 * up in; the gRPC transport and the Nacos 1.4 HTTP one are combined per peer; the node gets them through its
 * ports; and, when HTTP is one of its protocols, its client app serves the 1.4 peer endpoints.
 */
import type { FastifyInstance } from "fastify";
import type { Log } from "../core/log.js";
import type { Scheduler } from "../core/scheduler.js";
import { MemberNames } from "../node/cluster/member-names.js";
import { MemberTable } from "../node/cluster/member-table.js";
import { NamingNode, type NodeConfig } from "../node/naming-node.js";
import type { DurableStore, HealthProber, NameResolver, PeerDirectory, PeerTransport, PeerTransportMode } from "../node/ports.js";
import { Nacos14Transport } from "../transport/nacos14/client.js";
import type { Nacos14Http } from "../transport/nacos14/http.js";
import { nacos14PeerRoutes } from "../transport/nacos14/routes.js";
import { PeerIdentity } from "../transport/peer-identity.js";
import { PerPeerTransport } from "../transport/per-peer-transport.js";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { splitAddress } from "../core/address.js";
import { dnsResolver } from "./dns-resolver.js";
import { networkProber } from "./health-prober.js";
import { DEFAULTS, type RuntimeConfig } from "./options.js";
import { ProbeTargets } from "./probe-targets.js";

export interface AssemblyOptions {
  readonly config: NodeConfig;
  /** The peer protocols the node speaks (TLS already taken into account). */
  readonly mode: PeerTransportMode;
  readonly scheduler: Scheduler;
  readonly log: Log;
  readonly secret: string | undefined;
  readonly peerTimeoutMs: number;
  /** The node's `--body-limit`: what its 1.4 peer endpoints accept, and what it sends to theirs. */
  readonly bodyLimitBytes: number;
  readonly snapshotStallMs?: number | undefined;
  /** The gRPC transport over the member directory; none for a standalone node. */
  readonly grpc?: ((directory: PeerDirectory) => PeerTransport) | undefined;
  /** The HTTP the 1.4 protocol runs over; the real client unless a simulated network carries it. */
  readonly http14?: Nacos14Http | undefined;
  /** Resolves members' host names: node:dns unless a test or the simulator resolves them its way. */
  readonly resolver?: NameResolver | undefined;
  /** How often members' host names are resolved again (the options' default unless given). */
  readonly membersRefreshMs?: number | undefined;
  /** The data directory's store (a simulated disk in the simulator); none: nothing outlives the process. */
  readonly store?: DurableStore | undefined;
  /** How persistent instances are probed: the real network unless the simulator fakes it. */
  readonly prober?: HealthProber | undefined;
  /** Which targets the real network prober may reach (the options' defaults unless given). */
  readonly healthCheck?: RuntimeConfig["healthCheck"] | undefined;
}

export interface AssembledNode {
  readonly node: NamingNode;
  /** The transport that reaches each peer now (for metrics); none standalone. */
  readonly transportOf: ((peer: string) => "grpc" | "http") | undefined;
  /** Checks that a peer call comes from the member it names (where its host name resolves now). */
  readonly identity: PeerIdentity;
  /** Serves the 1.4 peer endpoints on the node's HTTP app, when HTTP is one of its protocols. */
  servePeerRoutes(app: FastifyInstance): Promise<void>;
  /** Releases the transports' connections (after `node.close()`). */
  closeTransports(): void;
}

/** The targets this node may probe: as the options say, and never its own HTTP and gRPC ports on this host. */
function probeTargets(config: NodeConfig, rules: RuntimeConfig["healthCheck"]): ProbeTargets {
  const { host, port } = splitAddress(config.self);
  const interfaces = Object.values(networkInterfaces()).flatMap((addresses) => (addresses ?? []).map((a) => a.address));
  const localAddresses = [host, ...interfaces].filter((address) => isIP(address) !== 0);
  return new ProbeTargets({ ...rules, ownPorts: [port, config.grpcPort], localAddresses });
}

export function assemble(options: AssemblyOptions): AssembledNode {
  const { config, mode, scheduler, log } = options;
  // A member's host name is resolved again this soon at the earliest when a failure or a stranger asks.
  const namesConfig = { refreshMs: options.membersRefreshMs ?? DEFAULTS.membersRefreshMs, minRetryMs: 1000 };
  const resolver = options.resolver ?? dnsResolver;
  const names = new MemberNames(config.members, resolver, scheduler, namesConfig, log);
  const members = new MemberTable(config.self, config.members, scheduler.now(), names.any ? names : undefined);
  const identity = new PeerIdentity(names, config.membersDns !== undefined);
  const prober = options.prober ?? networkProber(probeTargets(config, options.healthCheck ?? DEFAULTS.healthCheck));
  if (options.grpc === undefined) {
    const node = new NamingNode(config, scheduler, members, { store: options.store, prober }, log);
    return { node, transportOf: undefined, identity, servePeerRoutes: async () => {}, closeTransports: () => {} };
  }
  const nacos14 = new Nacos14Transport(
    {
      self: config.self,
      version: config.version,
      timeoutMs: options.peerTimeoutMs,
      secret: options.secret,
      snapshotChunkBytes: config.distro.snapshot.chunkBytes,
      maxBodyBytes: options.bodyLimitBytes,
      clock: () => scheduler.now(),
      addressOf: (peer) => members.httpAddressOf(peer),
    },
    options.http14,
  );
  const grpc = options.grpc(members);
  const transport = new PerPeerTransport(mode, grpc, nacos14, members);
  const speaks14 = mode !== "grpc";
  const transportOf = (peer: string): "grpc" | "http" => transport.transportOf(peer);
  const ports = { transport, nacos14: speaks14 ? nacos14 : undefined, transportOf, store: options.store, prober, resolver };
  const node = new NamingNode(config, scheduler, members, ports, log);
  return {
    node,
    transportOf,
    identity,
    async servePeerRoutes(app) {
      if (!speaks14) return;
      await app.register(nacos14PeerRoutes, {
        handler: node,
        clock: () => scheduler.now(),
        log,
        secret: options.secret,
        bodyLimitBytes: options.bodyLimitBytes,
        identity,
        ...(options.snapshotStallMs === undefined ? {} : { snapshotStallMs: options.snapshotStallMs }),
      });
    },
    closeTransports() {
      nacos14.close();
    },
  };
}
