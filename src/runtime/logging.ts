/** The core's Log interface over pino, the logger fastify uses, so every line is structured JSON. */
import type { Logger } from "pino";
import type { Log } from "../core/log.js";

export function pinoLog(logger: Logger): Log {
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (fields === undefined) logger[level](message);
      else logger[level](fields, message);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
