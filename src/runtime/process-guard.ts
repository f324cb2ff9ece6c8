/**
 * What the process does on signals and on errors nobody caught. A stray exception is logged with its stack and
 * ends the process after a graceful stop (bounded by the same deadline as a SIGTERM), so acknowledged writes
 * still reach peers; a stray promise rejection is logged with its stack and the node carries on.
 */
import type { Logger } from "pino";

/** The part of `process` the guard uses, so a test can drive it with an EventEmitter. */
export interface GuardedProcess {
  on(event: "SIGINT" | "SIGTERM", listener: () => void): unknown;
  on(event: "uncaughtException", listener: (err: Error) => void): unknown;
  on(event: "unhandledRejection", listener: (reason: unknown) => void): unknown;
  exit(code: number): void;
}

export interface GuardOptions {
  /** Stops the node gracefully. */
  readonly stop: () => Promise<void>;
  /** The process exits with code 1 if a stop has not finished by then. */
  readonly forceExitAfterMs: number;
}

export function guardProcess(proc: GuardedProcess, logger: Logger, options: GuardOptions): void {
  let stopping = false;
  const stopThenExit = async (code: number, reason: Record<string, unknown>): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info(reason, "shutting down");
    const force = setTimeout(() => {
      logger.error({ afterMs: options.forceExitAfterMs }, "graceful stop did not finish in time; exiting");
      proc.exit(1);
    }, options.forceExitAfterMs);
    force.unref();
    try {
      await options.stop();
      logger.info("stopped");
    } catch (err) {
      logger.error({ err }, "graceful stop failed");
      code = 1;
    }
    clearTimeout(force);
    proc.exit(code);
  };
  proc.on("SIGINT", () => void stopThenExit(0, { signal: "SIGINT" }));
  proc.on("SIGTERM", () => void stopThenExit(0, { signal: "SIGTERM" }));
  proc.on("uncaughtException", (err) => {
    logger.fatal({ err }, "uncaught exception");
    void stopThenExit(1, { cause: "uncaught exception" });
  });
  proc.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
}
