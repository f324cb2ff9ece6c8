/** `npm start`: parse the configuration, start one node, stop cleanly on SIGINT/SIGTERM. */
import { pino } from "pino";
import { ConfigError, loadConfig } from "./runtime/config.js";
import { startServer } from "./runtime/server.js";

let config;
try {
  config = loadConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}

const logger = pino({ level: config.logLevel, base: { node: `${config.ip}:${config.port}` } });
const server = await startServer(config, logger).catch((err: unknown) => {
  logger.fatal({ error: String(err) }, "failed to start");
  process.exit(1);
});

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down");
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  await server.close();
  logger.info("stopped");
  process.exit(0);
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("unhandledRejection", (reason) => logger.error({ error: String(reason) }, "unhandled rejection"));
