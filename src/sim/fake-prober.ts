/**
 * The simulator's HealthProber: every endpoint answers as its test says — up unless told otherwise — after a
 * fixed delay on the virtual clock (none by default), without randomness, so a seed replays the same run.
 */
import type { Scheduler } from "../core/scheduler.js";
import type { HealthProber, HttpProbe, ProbeOutcome, ProbeResult } from "../node/ports.js";

export class FakeProber implements HealthProber {
  private readonly results = new Map<string, ProbeResult>();
  /** Every probe so far, as `tcp|http ip:port`. */
  readonly probed: string[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(
    private readonly scheduler?: Scheduler,
    private readonly delayMs = 0,
  ) {}

  /** What `ip:port` answers from now on (`up` again when `result` is undefined). */
  set(ip: string, port: number, result: ProbeResult | undefined): void {
    if (result === undefined) this.results.delete(`${ip}:${port}`);
    else this.results.set(`${ip}:${port}`, result);
  }

  tcp(ip: string, port: number): Promise<ProbeOutcome> {
    return this.answer("tcp", ip, port);
  }

  http(p: HttpProbe): Promise<ProbeOutcome> {
    return this.answer("http", p.ip, p.port);
  }

  private async answer(kind: "tcp" | "http", ip: string, port: number): Promise<ProbeOutcome> {
    this.probed.push(`${kind} ${ip}:${port}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const scheduler = this.scheduler;
    if (scheduler !== undefined && this.delayMs > 0) await new Promise<void>((resolve) => scheduler.schedule(this.delayMs, resolve));
    this.inFlight--;
    const result = this.results.get(`${ip}:${port}`) ?? "up";
    return { result, detail: `${kind}:${result}` };
  }
}
