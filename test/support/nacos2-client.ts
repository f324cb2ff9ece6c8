/**
 * A real Nacos 2.x client (nacos-sdk-rust, through its npm binding) in a child process (nacos2-client-worker.ts),
 * as a test drives it: each method call is a promise, pushes are collected, and `kill()` ends it as a crash
 * would. Every client started is killed when the test file's tests end.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after } from "node:test";
import type { ClientOptions, NacosServiceInstance } from "nacos-sdk-rust-binding-node";

const WORKER = fileURLToPath(new URL("./nacos2-client-worker.ts", import.meta.url));
const CALL_TIMEOUT_MS = 30_000;

export type Host = NacosServiceInstance;

export interface Push {
  readonly service: string;
  readonly hosts: Host[];
}

const started: Nacos2Client[] = [];
after(() => {
  for (const c of started) c.kill();
});

export class Nacos2Client {
  readonly pushes: Push[] = [];
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 0;
  private output = "";

  private constructor(private readonly child: ChildProcess) {}

  /** Starts a client (as `new NacosNamingClient(options)`) and resolves once its process runs. */
  static async start(options: ClientOptions): Promise<Nacos2Client> {
    const child = spawn(process.execPath, ["--import", "tsx", WORKER, JSON.stringify(options)], { stdio: ["pipe", "pipe", "pipe"] });
    const client = new Nacos2Client(child);
    started.push(client);
    child.stderr!.on("data", (d: Buffer) => (client.output += d.toString()));
    const ready = new Promise<void>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`client process exited with ${code}: ${client.output}`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        const message = JSON.parse(line) as { ready?: true; id?: number; result?: unknown; error?: string; push?: string; hosts?: Host[] };
        if (message.ready) resolve();
        else if (message.push !== undefined) client.pushes.push({ service: message.push, hosts: message.hosts ?? [] });
        else if (message.id !== undefined) {
          const w = client.waiting.get(message.id);
          client.waiting.delete(message.id);
          if (message.error !== undefined) w?.reject(new Error(message.error));
          else w?.resolve(message.result);
        }
      });
    });
    await ready;
    return client;
  }

  call<T>(method: string, ...args: unknown[]): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${method} got no answer in ${CALL_TIMEOUT_MS} ms: ${this.output.slice(-2000)}`)),
        CALL_TIMEOUT_MS,
      );
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.stdin!.write(`${JSON.stringify({ id, method, args })}\n`);
    });
  }

  registerInstance(service: string, group: string, instance: Host): Promise<void> {
    return this.call("registerInstance", service, group, instance);
  }

  deregisterInstance(service: string, group: string, instance: Host): Promise<void> {
    return this.call("deregisterInstance", service, group, instance);
  }

  batchRegisterInstance(service: string, group: string, instances: Host[]): Promise<void> {
    return this.call("batchRegisterInstance", service, group, instances);
  }

  getAllInstances(service: string, group: string, clusters: string[] | null = null, subscribe = false): Promise<Host[]> {
    return this.call("getAllInstances", service, group, clusters, subscribe);
  }

  selectInstances(service: string, group: string, healthy: boolean, subscribe = false): Promise<Host[]> {
    return this.call("selectInstances", service, group, null, subscribe, healthy);
  }

  selectOneHealthyInstance(service: string, group: string): Promise<Host> {
    return this.call("selectOneHealthyInstance", service, group, null, false);
  }

  subscribe(service: string, group: string, clusters: string[] | null = null): Promise<void> {
    return this.call("subscribe", service, group, clusters);
  }

  /** The ips of the last push of a service, sorted; undefined before any. */
  lastPushed(service: string): string[] | undefined {
    const last = this.pushes.filter((p) => p.service === service).at(-1);
    return last?.hosts.map((h) => h.ip).sort();
  }

  /** Ends the client process at once (SIGKILL): its connections die with it, as a crashed service's do. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}
