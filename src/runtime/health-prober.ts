/**
 * The HealthProber over the real network: a TCP connect (node:net) or an HTTP GET (node:http) of which only
 * the status line is read — the connection is dropped as soon as the status is known, so no endpoint can make
 * this node read a body. Nothing blocks; every probe settles by its deadline and never rejects.
 *
 * Only targets ProbeTargets allows are reached: an IP is checked before connecting, a host name at the moment
 * it resolves (the connection goes to the very address checked, so DNS cannot answer one thing to the check
 * and another to the connect). A refused target is never connected to.
 */
import { type LookupAddress, type LookupOptions, lookup as dnsLookup } from "node:dns";
import { request } from "node:http";
import { connect, isIP } from "node:net";
import type { HealthProber, HttpProbe, ProbeOutcome } from "../node/ports.js";
import type { ProbeTargets } from "./probe-targets.js";

/** The agent 1.4's HTTP checker sends: endpoints written for Nacos may recognise it. */
const USER_AGENT = "VIPServer";

/** A target the policy refuses: never probed. */
class RefusedTarget extends Error {
  override name = "RefusedTarget";
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** Settles a probe once: whichever of answer, error or deadline comes first; `release` frees its socket. */
function settleOnce(timeoutMs: number, timeoutDetail: string, release: () => void, resolve: (o: ProbeOutcome) => void) {
  let settled = false;
  const done = (outcome: ProbeOutcome): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    release();
    resolve(outcome);
  };
  const timer = setTimeout(() => done({ result: "failing", detail: timeoutDetail }), timeoutMs);
  return done;
}

/** A refused connection means nothing listens: 1.4 fails the instance at once; anything else may pass. */
function failure(kind: "tcp" | "http", err: NodeJS.ErrnoException): ProbeOutcome {
  if (err instanceof RefusedTarget) return refused(kind, err.message);
  return err.code === "ECONNREFUSED"
    ? { result: "down", detail: `${kind}:unable2connect:${err.message}` }
    : { result: "failing", detail: `${kind}:error:${err.message}` };
}

const refused = (kind: "tcp" | "http", why: string): ProbeOutcome => ({ result: "refused", detail: `${kind}:refused:${why}` });

/** 1.4's reading of a status: a 503 or 302 is a busy endpoint (counted), any other unexpected one fails at once. */
function statusOutcome(status: number, expected: number): ProbeOutcome {
  if (status === expected) return { result: "up", detail: `http:${status}` };
  return { result: status === 503 || status === 302 ? "failing" : "down", detail: `http:${status}` };
}

/** The real network, within what `targets` allows. */
export function networkProber(targets: ProbeTargets): HealthProber {
  /** Why `host:port` is refused when `host` is an IP; host names are checked as they resolve (`lookup`). */
  const refusalOf = (host: string, port: number): string | undefined => {
    const why = isIP(host) === 0 ? undefined : targets.refusal(host, port);
    return why === undefined ? undefined : `${host}:${port} is ${why}`;
  };

  /** dns.lookup, failing with RefusedTarget when any address the name resolves to is refused. */
  const lookupFor =
    (port: number) =>
    (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err !== null) return callback(err, []);
        const bad = addresses.map((a) => [a.address, targets.refusal(a.address, port)] as const).find(([, why]) => why !== undefined);
        if (bad !== undefined) return callback(new RefusedTarget(`${hostname} resolves to ${bad[0]}:${port}, ${bad[1]}`), []);
        if (options.all === true) return callback(null, addresses);
        const first = addresses[0];
        if (first === undefined) return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), []);
        callback(null, first.address, first.family);
      });
    };

  function tcp(ip: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
    const why = refusalOf(ip, port);
    if (why !== undefined) return Promise.resolve(refused("tcp", why));
    return new Promise((resolve) => {
      const socket = connect({ host: ip, port, lookup: lookupFor(port) });
      const done = settleOnce(timeoutMs, "tcp:timeout", () => socket.destroy(), resolve);
      socket.once("connect", () => done({ result: "up", detail: "tcp:ok" }));
      socket.on("error", (err) => done(failure("tcp", err)));
    });
  }

  function http(p: HttpProbe, timeoutMs: number): Promise<ProbeOutcome> {
    const why = refusalOf(p.ip, p.port);
    if (why !== undefined) return Promise.resolve(refused("http", why));
    return new Promise((resolve) => {
      const path = p.path.startsWith("/") ? p.path : `/${p.path}`;
      // The checker's headers never name the host or the agent (probeHeaders drops them); ours come last anyway.
      const headers = { ...Object.fromEntries(p.headers), "User-Agent": USER_AGENT };
      let req: ReturnType<typeof request>;
      try {
        req = request({ host: p.ip, port: p.port, path, method: "GET", headers, agent: false, lookup: lookupFor(p.port) });
      } catch (err) {
        resolve({ result: "failing", detail: `http:error:${(err as Error).message}` });
        return;
      }
      const done = settleOnce(timeoutMs, "http:timeout", () => req.destroy(), resolve);
      req.once("response", (res) => done(statusOutcome(res.statusCode ?? 0, p.expectedStatus)));
      // Kept for the request's whole life: destroying it may still report an error after it settled.
      req.on("error", (err) => done(failure("http", err)));
      req.end();
    });
  }

  return { tcp, http };
}
