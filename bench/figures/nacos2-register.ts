/**
 * `nacos2-register`: registering new instances over the 2.x client port (InstanceRequest on 16 set-up lean
 * connections, one request in flight each) against registering them over the 1.x HTTP API (16 keep-alive
 * connections, one in flight each) on the same standalone node, in alternating rounds of the same run; both as
 * req/s and as the node's CPU per request. A third side is the floor of the transport: a bare grpc-js server
 * (bench/reference/grpc-server.mjs) answering the same unary calls at once, so the table shows how much of a
 * 2.x call is grpc-js itself. Both sides register into the same 1,000 services, created (and made durable)
 * before the measuring starts. As in Nacos 2.x a connection publishes one instance per service, so each 2.x
 * register replaces the connection's previous instance of its service (a removal and an addition).
 */
import { type Measured, populate, throughputPlan, throughputRows, withCpu } from "../lib/compare.js";
import type { Figure, Row } from "../lib/figure.js";
import { instanceRequest } from "../lib/http.js";
import { type LoadResult, runLoad } from "../lib/load.js";
import { nacos2Clients, nacos2Register, runNacos2Load } from "../lib/nacos2-load.js";
import type { Proc } from "../lib/procs.js";

const CONNECTIONS = 16;
const SERVICES = 1_000;
/** The HTTP side's instances live on ports from 30,001 (762 addresses a port), the 2.x side's below: neither re-registers the other's. */
const HTTP_OFFSET = 762 * 30_000;
const serviceOf = (n: number): string => `reg2-${n % SERVICES}`;

type Run = (ms: number) => Promise<Measured>;

/** A run of `load` with the CPU `proc` spent during it. */
const measuredOn =
  (proc: Proc, load: (ms: number) => Promise<LoadResult>): Run =>
  (ms) =>
    withCpu([proc], () => load(ms));

/** 2.x registrations over `CONNECTIONS` set-up connections to `proc`'s client port, numbered on from the last run. */
async function nacos2Side(ctx: Parameters<Figure["run"]>[0], proc: Proc): Promise<Run> {
  const clients = await nacos2Clients(proc.port + 1000, CONNECTIONS);
  ctx.scope.defer(() => {
    for (const c of clients) c.close();
  });
  let sent = 0;
  return measuredOn(proc, async (maxMs) => {
    const first = sent;
    const request = (n: number) => nacos2Register(serviceOf(first + n), first + n);
    const r = await runNacos2Load({ clients, requests: 10_000_000, maxMs, request });
    sent += r.requests;
    return r;
  });
}

function httpSide(proc: Proc): Run {
  let sent = 0;
  return measuredOn(proc, async (maxMs) => {
    const first = sent;
    const request = (n: number) => instanceRequest("POST", serviceOf(first + n), HTTP_OFFSET + first + n);
    const r = await runLoad({ port: proc.port, connections: CONNECTIONS, requests: 10_000_000, maxMs, request });
    sent += r.requests;
    return r;
  });
}

export const figure: Figure<{ node: Proc; floor: Proc }> = {
  name: "nacos2-register",
  title: "register of a new instance: 2.x gRPC client port vs the 1.x HTTP API, same node, same run (and a bare grpc-js floor)",
  setup: async (ctx) => ({ node: await ctx.scope.node({ label: "standalone" }), floor: await ctx.scope.reference("grpc-js", "grpc") }),
  async run(ctx, { node, floor }) {
    const { maxMs, rounds, warmupMs } = throughputPlan(ctx);
    // every service exists before anything is measured: creating one is a durable write, on either side
    const created = await populate([node], SERVICES, (n) => instanceRequest("POST", serviceOf(n), HTTP_OFFSET - 1 - n));
    const sides: Run[] = [await nacos2Side(ctx, node), httpSide(node), await nacos2Side(ctx, floor)];
    const runs: Measured[][] = sides.map(() => []);
    if (warmupMs > 0) for (const side of sides) await side(warmupMs);
    for (let round = 0; round < rounds; round++) {
      // the side that goes first rotates, so a drift of the shared machine falls on every side alike
      for (let k = 0; k < sides.length; k++) {
        const i = (round + k) % sides.length;
        runs[i]!.push(await sides[i]!(maxMs));
      }
    }
    const [grpc, http, bare] = runs as [Measured[], Measured[], Measured[]];
    const note = `${CONNECTIONS} connections each side, one request in flight per connection`;
    const variant = `new instance (${SERVICES.toLocaleString("en-US")} services)`;
    const rows: Row[] = [
      ...throughputRows(variant, grpc, http, "1.x HTTP", "≥ 1.0×", { note }),
      ...throughputRows("bare grpc-js answering the same calls, vs 1.x HTTP register", bare, http, "1.x HTTP", "the transport's floor", {
        note,
      }),
    ];
    return { rows, raw: { servicesCreated: created, grpc, http, bareGrpc: bare } };
  },
};
