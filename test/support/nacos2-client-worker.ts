/**
 * A child process holding one real Nacos 2.x client (nacos-sdk-rust-binding-node, unchanged), driven by JSON lines
 * on stdin: `{id, method, args}` calls the client's method and answers `{id, result}` or `{id, error}` on stdout;
 * a subscription's pushes are written as `{push: service, hosts}`. The client runs in its own process so a test can
 * kill it as a crashing service would die, and so its native threads never keep the test process alive.
 */
import { createInterface } from "node:readline";
import { NacosNamingClient, type ClientOptions, type NacosServiceInstance } from "nacos-sdk-rust-binding-node";

const options = JSON.parse(process.argv[2] ?? "{}") as ClientOptions;
const client = new NacosNamingClient(options);
const write = (message: unknown): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

type Call = { id: number; method: string; args: unknown[] };

async function run({ method, args }: Call): Promise<unknown> {
  if (method === "subscribe") {
    const [service, group, clusters] = args as [string, string, string[] | null];
    await client.subscribe(service, group, clusters, (err, hosts: NacosServiceInstance[]) => {
      if (err === null) write({ push: service, hosts });
    });
    return null;
  }
  const fn = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
  if (typeof fn !== "function") throw new Error(`no method ${method}`);
  return (await fn.apply(client, args)) ?? null;
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const call = JSON.parse(line) as Call;
  run(call).then(
    (result) => write({ id: call.id, result }),
    (err: unknown) => write({ id: call.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
// stdin closing (the test ended) ends the worker, whatever its native threads hold.
process.stdin.on("end", () => process.exit(0));
write({ ready: true });
