/** `npm start`: parse the configuration, start one node, stop gracefully on SIGINT/SIGTERM. */
import { pino } from "pino";
import { ConfigError, loadConfig, type RuntimeConfig } from "./runtime/options.js";
import { guardProcess } from "./runtime/process-guard.js";
import { startServer } from "./runtime/server.js";

function configOrExit(): RuntimeConfig {
  try {
    return loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}

const config = configOrExit();

const logger = pino({ level: config.logLevel, base: { node: `${config.ip}:${config.port}` } });
const server = await startServer(config, logger).catch((err: unknown) => {
  logger.fatal({ err }, "failed to start");
  process.exit(1);
});

// Draining HTTP and gRPC and flushing replication each take at most the shutdown timeout.
guardProcess(process, logger, { stop: () => server.close(), forceExitAfterMs: 2 * config.shutdownTimeoutMs + 5_000 });
