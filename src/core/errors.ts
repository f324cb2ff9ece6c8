/**
 * The one error type the core throws for a request it refuses. `status` is the HTTP status a Nacos 1.4 server
 * answers with and `message` its plain-text body, so adapters relay both unchanged.
 */
export class NacosError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "NacosError";
  }
}

export const badRequest = (message: string): NacosError => new NacosError(400, message);
export const notFound = (message: string): NacosError => new NacosError(404, message);
