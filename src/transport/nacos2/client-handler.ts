/**
 * What the client port asks of whoever answers 2.x clients (the API layer, wired by the runtime): the transport
 * carries payloads and keeps connections; what a request means is decided above it.
 */
import type { TypedResponse } from "./responses.js";

/** One client connection once it has set up (its ConnectionSetupRequest), as the transport knows it. */
export interface ClientConnectionMeta {
  /** The id ServerCheckResponse gave it: `<ms>_<ip>_<port>`, as Nacos makes it. */
  readonly id: string;
  /** The connection's own address (never what the client claims). */
  readonly remoteIp: string;
  readonly remotePort: number;
  readonly clientVersion: string;
  /** ConnectionSetupRequest.tenant: the client's namespace ("" for public). */
  readonly tenant: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The label `AppName`, "-" when none (Nacos's default). */
  readonly appName: string;
  /** When the connection was accepted (ms, the port's clock). */
  readonly connectedAt: number;
}

export interface ClientRequest {
  /** `Metadata.type`: the request's class name. */
  readonly type: string;
  readonly requestId: string | undefined;
  /** The request's JSON, an object; its fields are not checked yet. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Headers (`accessToken`, `app`, ...), keys lower-cased. */
  readonly headers: ReadonlyMap<string, string>;
  readonly connection: ClientConnectionMeta;
}

export interface ClientRequestHandler {
  /** False while the node cannot serve clients (loading what its peers hold): requests answer 300, setups are refused. */
  readonly accepting: boolean;
  /** Whether a request type has a handler (302 otherwise). */
  handles(type: string): boolean;
  /** Answers a request of a set-up connection; a rejection is answered as a server error. */
  handle(request: ClientRequest): Promise<TypedResponse>;
  /** A connection set up; from now on its requests are served. */
  opened(connection: ClientConnectionMeta): void;
  /** A set-up connection is gone (closed, reset, or silent to detection). */
  closed(connectionId: string, reason: string): void;
}
