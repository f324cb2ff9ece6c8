/**
 * `nacos2-register`: registering new instances over the 2.x client port (InstanceRequest on 16 set-up
 * connections, one request in flight each) against registering them over the 1.x HTTP API (16 keep-alive
 * connections, one in flight each) on the same standalone node, in alternating rounds of the same run. Both as
 * req/s and as the node's CPU per request. The 2.x instances are bound to their connection, so they leave when
 * the figure closes its clients.
 */
import type { Measured } from "../lib/compare.js";
import { throughputPlan, throughputRows } from "../lib/compare.js";
import { cpuMs } from "../lib/cpu.js";
import type { Figure } from "../lib/figure.js";
import { instanceRequest } from "../lib/http.js";
import { runLoad } from "../lib/load.js";
import { nacos2Clients, nacos2Register, runNacos2Load } from "../lib/nacos2-load.js";
import type { Proc } from "../lib/procs.js";

const CONNECTIONS = 16;
const SERVICES = 1_000;
/** The HTTP side's instances live on ports from 30,001 (762 addresses a port), the 2.x side's below: neither re-registers the other's. */
const HTTP_OFFSET = 762 * 30_000;

export const figure: Figure<Proc> = {
  name: "nacos2-register",
  title: "register of a new instance: 2.x gRPC client port vs the 1.x HTTP API, same node, same run",
  setup: (ctx) => ctx.scope.node({ label: "standalone" }),
  async run(ctx, node) {
    const { maxMs, rounds, warmupMs } = throughputPlan(ctx);
    const clients = await nacos2Clients(node.port + 1000, CONNECTIONS);
    ctx.scope.defer(() => {
      for (const c of clients) c.close();
    });
    let sentGrpc = 0;
    let sentHttp = 0;
    const measured = async (load: () => ReturnType<typeof runLoad>): Promise<Measured> => {
      const before = cpuMs(node.pid);
      const result = await load();
      return { load: result, cpuMs: cpuMs(node.pid) - before };
    };
    const grpcRun = (ms: number): Promise<Measured> =>
      measured(async () => {
        const first = sentGrpc;
        const r = await runNacos2Load({
          clients,
          requests: 10_000_000,
          maxMs: ms,
          request: (n) => nacos2Register(`r2-${(first + n) % SERVICES}`, first + n),
        });
        sentGrpc += r.requests;
        return r;
      });
    const httpRun = (ms: number): Promise<Measured> =>
      measured(async () => {
        const first = sentHttp;
        const r = await runLoad({
          port: node.port,
          connections: CONNECTIONS,
          requests: 10_000_000,
          maxMs: ms,
          request: (n) => instanceRequest("POST", `r1-${(first + n) % SERVICES}`, HTTP_OFFSET + first + n),
        });
        sentHttp += r.requests;
        return r;
      });
    if (warmupMs > 0) {
      await grpcRun(warmupMs);
      await httpRun(warmupMs);
    }
    const grpc: Measured[] = [];
    const http: Measured[] = [];
    for (let round = 0; round < rounds; round++) {
      // the side that goes first rotates, so a drift of the shared machine falls on both alike
      if (round % 2 === 0) {
        grpc.push(await grpcRun(maxMs));
        http.push(await httpRun(maxMs));
      } else {
        http.push(await httpRun(maxMs));
        grpc.push(await grpcRun(maxMs));
      }
    }
    const rows = throughputRows(`new instance (${SERVICES.toLocaleString("en-US")} services)`, grpc, http, "1.x HTTP", "≥ 1.0×", {
      note: `${CONNECTIONS} connections each side, one request in flight per connection`,
    });
    return { rows, raw: { grpc, http } };
  },
};
