/**
 * `npm start`: parse the configuration, start one node, stop gracefully on SIGINT/SIGTERM. A configuration the
 * node cannot start with (a bad option, a port in use, an unwritable data directory) ends in one sentence on
 * stderr naming the option to change, and exit code 2; anything unexpected is logged with its stack, exit 1.
 */
import { ConfigError, loadConfig, type RuntimeConfig } from "./runtime/options.js";
import { processLogger } from "./runtime/logging.js";
import { guardProcess } from "./runtime/process-guard.js";
import { startServer, VERSION } from "./runtime/server.js";

function exitWith(err: ConfigError): never {
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}

function configOrExit(argv: readonly string[]): RuntimeConfig {
  try {
    return loadConfig(argv, process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    exitWith(err);
  }
}

const argv = process.argv.slice(2);
if (argv.includes("--version")) {
  process.stdout.write(`${VERSION}\n`);
  process.exit(0);
}
const config = configOrExit(argv);

const { logger, format } = processLogger({ logLevel: config.logLevel, logFormat: config.logFormat, node: `${config.ip}:${config.port}` });
const server = await startServer(config, logger, format).catch((err: unknown) => {
  if (err instanceof ConfigError) exitWith(err);
  logger.fatal({ err }, "failed to start");
  process.exit(1);
});

// Draining HTTP and gRPC and flushing replication each take at most the shutdown timeout.
guardProcess(process, logger, { stop: () => server.close(), forceExitAfterMs: 2 * config.shutdownTimeoutMs + 5_000 });
