/**
 * The HealthProber over the real network: a TCP connect (node:net) or an HTTP GET (node:http) of which only
 * the status line is read — the connection is dropped as soon as the status is known, so no endpoint can make
 * this node read a body. Nothing blocks; every probe settles by its deadline and never rejects.
 */
import { request } from "node:http";
import { connect } from "node:net";
import type { HealthProber, HttpProbe, ProbeOutcome } from "../node/ports.js";

/** The agent 1.4's HTTP checker sends: endpoints written for Nacos may recognise it. */
const USER_AGENT = "VIPServer";

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
  return err.code === "ECONNREFUSED"
    ? { result: "down", detail: `${kind}:unable2connect:${err.message}` }
    : { result: "failing", detail: `${kind}:error:${err.message}` };
}

function tcp(ip: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    const done = settleOnce(timeoutMs, "tcp:timeout", () => socket.destroy(), resolve);
    socket.once("connect", () => done({ result: "up", detail: "tcp:ok" }));
    socket.on("error", (err) => done(failure("tcp", err)));
  });
}

/** 1.4's reading of a status: a 503 or 302 is a busy endpoint (counted), any other unexpected one fails at once. */
function statusOutcome(status: number, expected: number): ProbeOutcome {
  if (status === expected) return { result: "up", detail: `http:${status}` };
  return { result: status === 503 || status === 302 ? "failing" : "down", detail: `http:${status}` };
}

function http(p: HttpProbe, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const path = p.path.startsWith("/") ? p.path : `/${p.path}`;
    const headers = { "User-Agent": USER_AGENT, ...Object.fromEntries(p.headers) };
    let req: ReturnType<typeof request>;
    try {
      req = request({ host: p.ip, port: p.port, path, method: "GET", headers, agent: false });
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

export const realProber: HealthProber = { tcp, http };
