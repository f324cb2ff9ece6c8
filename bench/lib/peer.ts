/**
 * The bench posing as a cluster peer, to fill a node with many instances far faster than client registrations
 * could: versioned datums pushed to the node's gRPC Sync RPC with the member address and the cluster secret in the
 * call's metadata. It speaks only the wire contract (the generated schemas of gen/, which `buf breaking` keeps
 * compatible), through Connect's gRPC client, so it serves any checkout's build, not just this one's internals.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { ServiceDatumSchema } from "../../gen/nacos/cluster/v1/datum_pb.js";
import { DistroService } from "../../gen/nacos/cluster/v1/distro_pb.js";
import { instanceAddress } from "./http.js";

type DatumInit = MessageInitShape<typeof ServiceDatumSchema>;

/** Datums for services `prefix-first` … `prefix-(first+count-1)`, `perService` instances each, all at one version. */
export function datums(prefix: string, first: number, count: number, perService: number, writer: string): DatumInit[] {
  const version = { counter: BigInt(Date.now()), writer };
  const out: DatumInit[] = [];
  for (let s = first; s < first + count; s++) {
    const service = `DEFAULT_GROUP@@${prefix}-${s}`;
    const entries = Array.from({ length: perService }, (_, i) => {
      const { ip, port } = instanceAddress(i);
      const instance = { instanceId: `${ip}#${port}#DEFAULT#${service}`, ip, port, weight: 1, healthy: true, enabled: true };
      const more = { ephemeral: true, clusterName: "DEFAULT", serviceName: service, app: "DEFAULT" };
      return { id: `${ip}:${port}:unknown:DEFAULT:ephemeral`, version, instance: { ...instance, ...more } };
    });
    const meta = { protectThreshold: 0, selector: { kind: { case: "none" as const, value: {} } } };
    out.push({ key: `public##${service}`, meta, metaVersion: version, entries });
  }
  return out;
}

export class BenchPeer {
  private readonly clients = new Map<number, ReturnType<typeof createClient<typeof DistroService>>>();

  constructor(
    /** The member address the nodes know the bench by. */
    readonly address: string,
    private readonly secret: string,
  ) {}

  /** Syncs `batch` to the node whose gRPC port is `grpcPort`; throws if it refused any datum. */
  async sync(grpcPort: number, batch: DatumInit[]): Promise<void> {
    let client = this.clients.get(grpcPort);
    if (client === undefined) {
      client = createClient(DistroService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }));
      this.clients.set(grpcPort, client);
    }
    const headers = { "x-nacos-source": this.address, "x-nacos-cluster-secret": this.secret };
    const answer = await client.sync({ datums: batch }, { headers, timeoutMs: 60_000 });
    if (answer.refused.length > 0) throw new Error(`${answer.refused.length} datums refused, e.g. ${answer.refused[0]!.reason}`);
  }
}
