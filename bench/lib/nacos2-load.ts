/**
 * Load over the Nacos 2.x client port, shaped like `runLoad`'s HTTP load so the two compare in one table: each
 * client is one set-up lean 2.x connection (nacos2-wire.ts: raw HTTP/2, as lean as the HTTP generator's raw
 * HTTP/1.1) sending its requests one after another, as the HTTP load's keep-alive connections do. An answer
 * counts as "200" when its resultCode is 200, otherwise under its errorCode ("0": the call failed).
 */
import { instanceAddress } from "./http.js";
import { type LoadResult, percentile } from "./load.js";
import { Nacos2Wire } from "./nacos2-wire.js";

export interface Nacos2Request {
  readonly type: string;
  readonly body: Record<string, unknown>;
}

export interface Nacos2LoadOptions {
  readonly clients: readonly Nacos2Wire[];
  readonly requests: number;
  readonly maxMs: number;
  readonly request: (n: number) => Nacos2Request;
}

const MAX_ERROR_SAMPLES = 5;

/** `count` set-up client connections to the node's client port (HTTP port + 1000 unless told). */
export async function nacos2Clients(clientPort: number, count: number): Promise<Nacos2Wire[]> {
  const clients = await Promise.all(Array.from({ length: count }, () => Nacos2Wire.open(clientPort)));
  await Promise.all(clients.map((c) => c.ready()));
  return clients;
}

/** Registration of instance `n` of `serviceName` (an ephemeral instance, bound to the connection that sends it). */
export function nacos2Register(serviceName: string, n: number): Nacos2Request {
  const { ip, port } = instanceAddress(n);
  return {
    type: "InstanceRequest",
    body: {
      type: "registerInstance",
      namespace: "public",
      serviceName,
      groupName: "DEFAULT_GROUP",
      instance: { ip, port, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: "DEFAULT", metadata: {} },
    },
  };
}

export async function runNacos2Load(options: Nacos2LoadOptions): Promise<LoadResult> {
  const started = performance.now();
  const deadline = started + options.maxMs;
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let next = 0;
  const claim = (): number | undefined => (next >= options.requests || performance.now() > deadline ? undefined : next++);
  const worker = async (client: Nacos2Wire): Promise<void> => {
    for (let n = claim(); n !== undefined; n = claim()) {
      const r = options.request(n);
      const sentAt = performance.now();
      let status: string;
      try {
        const answer = await client.call(r.type, r.body);
        status = answer.body.resultCode === 200 ? "200" : String(answer.body.errorCode ?? "?");
        if (status !== "200" && errorSamples.length < MAX_ERROR_SAMPLES)
          errorSamples.push(`${answer.type} ${JSON.stringify(answer.body).slice(0, 200)}`);
      } catch (err) {
        status = "0";
        if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(String(err));
      }
      latencies.push(performance.now() - sentAt);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(options.clients.map(worker));
  const ms = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    ms,
    perSecond: (latencies.length * 1000) / ms,
    statuses,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1) ?? 0,
    errorSamples,
    reconnects: 0,
  };
}
