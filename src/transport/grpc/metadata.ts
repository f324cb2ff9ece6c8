/**
 * Who is calling: every peer call carries the caller's member address and, in a secured cluster, the shared
 * cluster secret, as gRPC metadata. A server admits a call by them before it decodes or runs anything.
 */
import * as grpc from "@grpc/grpc-js";
import { secretMatches } from "../peer-secret.js";

export const SECRET_KEY = "x-nacos-cluster-secret";
export const SOURCE_KEY = "x-nacos-source";

export function callMetadata(source: string, secret: string | undefined): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(SOURCE_KEY, source);
  if (secret !== undefined) metadata.set(SECRET_KEY, secret);
  return metadata;
}

/** A call refused before it ran, with the status to answer. */
export class CallRefused extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = "CallRefused";
  }
}

function single(metadata: grpc.Metadata, key: string): string | undefined {
  const values = metadata.get(key);
  return values.length === 1 && typeof values[0] === "string" ? values[0] : undefined;
}

/**
 * The caller's member address, once admitted. With a secret the call must carry it; with or without one it must
 * name the member it comes from, and that must be a member: in an open cluster too, nobody outside the member
 * list reports, syncs, verifies or forwards (the connection's address is checked against it next: admission.ts).
 */
export function admit(metadata: grpc.Metadata, secret: string | undefined, isMember: (address: string) => boolean): string {
  if (secret !== undefined && !secretMatches(single(metadata, SECRET_KEY), secret)) {
    throw new CallRefused(grpc.status.UNAUTHENTICATED, `missing or wrong ${SECRET_KEY}`);
  }
  const source = single(metadata, SOURCE_KEY);
  if (source === undefined) {
    throw new CallRefused(grpc.status.INVALID_ARGUMENT, `metadata ${SOURCE_KEY} is required: a peer call names the member it comes from`);
  }
  if (!isMember(source)) throw new CallRefused(grpc.status.PERMISSION_DENIED, `${SOURCE_KEY} '${source}' is not a member of this cluster`);
  return source;
}
