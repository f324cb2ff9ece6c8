/**
 * The process's logger and the core's Log interface over it. pino writes every record as one JSON line (what a
 * log collector reads) or, for a person at a terminal, as its pretty form (runtime/pretty-log.ts); fastify and
 * grpc-js log through the same logger, so nothing reaches the output in a third format.
 */
import { format } from "node:util";
import * as grpc from "@grpc/grpc-js";
import { type Logger, pino } from "pino";
import type { Log } from "../core/log.js";
import type { LogFormat } from "./options.js";
import { prettyDestination } from "./pretty-log.js";

export function pinoLog(logger: Logger): Log {
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (fields === undefined) logger[level](message);
      else logger[level](fields, message);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** `auto` is pretty when a person watches (the output is a terminal) and JSON when a program collects it. */
export function resolveLogFormat(option: LogFormat, isTTY: boolean): "json" | "pretty" {
  return option === "auto" ? (isTTY ? "pretty" : "json") : option;
}

export interface ProcessLogger {
  readonly logger: Logger;
  readonly format: "json" | "pretty";
}

/**
 * The node's logger, on stdout. JSON records carry the node's address, so the lines of several nodes collected
 * together stay apart; a terminal shows one node, named in its start-up summary. Colours only on a terminal,
 * and never with NO_COLOR set.
 */
export function processLogger(settings: {
  readonly logLevel: string;
  readonly logFormat: LogFormat;
  readonly node: string;
}): ProcessLogger {
  const terminal = process.stdout.isTTY === true;
  const format = resolveLogFormat(settings.logFormat, terminal);
  const logger =
    format === "json"
      ? pino({ level: settings.logLevel, base: { node: settings.node } })
      : pino({ level: settings.logLevel, base: {} }, prettyDestination(process.stdout, terminal && process.env.NO_COLOR === undefined));
  routeGrpcLogs(logger);
  return { logger, format };
}

/**
 * grpc-js writes its own messages to stderr as `E text` lines; here they become records of the node's log. Its
 * errors are logged as warnings: they are mostly what it also hands its caller (a port it could not bind, a
 * peer gone), which the caller reports in its own words.
 */
function routeGrpcLogs(logger: Logger): void {
  const from = logger.child({ from: "grpc-js" });
  grpc.setLogger({
    error: (...args: unknown[]) => from.warn(format(...args)),
    info: (...args: unknown[]) => from.info(format(...args)),
    debug: (...args: unknown[]) => from.debug(format(...args)),
  });
}
