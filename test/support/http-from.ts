/**
 * One HTTP request to a loopback port from a chosen local address (the client binds it): how a test poses as a
 * caller at another loopback IP, e.g. a non-member at 127.0.0.5, which fetch cannot do.
 */
import { request } from "node:http";

export interface RequestFrom {
  readonly localAddress: string;
  readonly port: number;
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

export function requestFrom(r: RequestFrom): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", ...r.headers };
    const req = request(
      { host: "127.0.0.1", port: r.port, method: r.method, path: r.path, localAddress: r.localAddress, headers },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("error", reject);
    req.end(r.body);
  });
}
