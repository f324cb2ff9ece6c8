/**
 * Why a node could not start, as one sentence naming the option that fixes it: `port 8848 is in use (--port /
 * NACOS_SERVER_PORT)`. Each function answers undefined for a failure no option fixes; the caller then reports it
 * as unexpected (with its stack).
 */

/** The bind failures explained here, as grpc-js quotes them in its own error's message (`[listen EADDRINUSE: …]`). */
const QUOTED = /\b(EADDRINUSE|EACCES|EADDRNOTAVAIL)\b/;

/** The errno code of a failure: Node's `code`, or one grpc-js quotes. */
function codeOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string") return code;
  return err instanceof Error ? QUOTED.exec(err.message)?.[1] : undefined;
}

/** What went wrong in words: Node's `ENOENT: no such file or directory, open '/x'` → `no such file or directory`. */
export function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /^E[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
}

/** A listener that could not take its port; `what` names it (`port`, `gRPC peer port`), `option` its flag and variable. */
export function portFailure(err: unknown, what: string, port: number, option: string): string | undefined {
  switch (codeOf(err)) {
    case "EADDRINUSE":
      return `${what} ${port} is in use (${option})`;
    case "EACCES":
      return `${what} ${port} needs privileges this user lacks: choose a port above 1023 (${option})`;
    default:
      return undefined;
  }
}

/** A socket that could not bind to `host`: not an address of this machine, or a name that does not resolve. */
export function hostFailure(err: unknown, host: string, option: string): string | undefined {
  switch (codeOf(err)) {
    case "EADDRNOTAVAIL":
      return `cannot listen on ${host}: it is not an address of this machine (${option})`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `cannot listen on ${host}: the name does not resolve (${option})`;
    default:
      return undefined;
  }
}

/** A data directory that could not be created, made private or written. */
export function dataDirFailure(err: unknown, dir: string, option: string): string | undefined {
  switch (codeOf(err)) {
    case "EEXIST":
      return `data directory ${dir} is a file, not a directory (${option})`;
    case "ENOTDIR":
      return `data directory ${dir} cannot be created: part of its path is a file (${option})`;
    case "ENOENT": // what Node's recursive mkdir reports under a read-only parent
      return `data directory ${dir} cannot be created (${option})`;
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return `data directory ${dir} is not writable: ${reasonOf(err)} (${option})`;
    default:
      return undefined;
  }
}

/** A file an option names that could not be read. */
export function fileFailure(err: unknown, file: string, option: string): string {
  return `cannot read ${file}: ${reasonOf(err)} (${option})`;
}
