/**
 * Admission of every peer call from its metadata and connection alone, as a grpc-js server interceptor.
 * grpc-js reads a call's message only after its metadata has been passed on, so a refused call costs its
 * headers and nothing more: no byte of its message is buffered beyond the HTTP/2 window, none is decoded.
 * Admitted calls reach the handlers with their caller's member address (`admittedSource`).
 */
import * as grpc from "@grpc/grpc-js";
import type { Log } from "../../core/log.js";
import type { PeerIdentity } from "../peer-identity.js";
import { admit, CallRefused, SOURCE_KEY } from "./metadata.js";

export interface AdmissionPolicy {
  /** The cluster secret callers must present; without it every member is admitted (an open cluster). */
  readonly secret: string | undefined;
  readonly isMember: (address: string) => boolean;
  /** Checks that the connection may speak for the member it names. */
  readonly identity: PeerIdentity;
  /** Mutual TLS: the client certificate must name the member too. */
  readonly checkCertificate: boolean;
  /** Methods served without admission (reflection: the schema is public). */
  readonly isOpen: (path: string) => boolean;
  /** A call from a member's address, naming it, was refused for a missing or wrong secret. */
  readonly onSecretRefused?: ((member: string) => void) | undefined;
  readonly log?: Log | undefined;
}

const admitted = new WeakMap<grpc.Metadata, string | undefined>();

/** The member address an admitted call came from (undefined only for the open methods, which are not admitted). */
export const admittedSource = (metadata: grpc.Metadata): string | undefined => admitted.get(metadata);

async function admitCall(policy: AdmissionPolicy, metadata: grpc.Metadata, call: grpc.ServerInterceptingCallInterface): Promise<string> {
  const remote = call.getConnectionInfo().remoteAddress ?? "";
  let source: string;
  try {
    source = admit(metadata, policy.secret, policy.isMember);
  } catch (err) {
    if (err instanceof CallRefused && err.code === grpc.status.UNAUTHENTICATED) await noteSecretRefused(policy, metadata, remote);
    throw err;
  }
  const certificate = policy.checkCertificate ? call.getAuthContext().sslPeerCertificate : undefined;
  const mismatch = await policy.identity.mismatch(source, remote, certificate);
  if (mismatch !== undefined) throw new CallRefused(grpc.status.PERMISSION_DENIED, `x-nacos-source: ${mismatch}`);
  return source;
}

/**
 * Tells the node of a member refused for its secret, once the call is known to come from that member's address:
 * a stranger naming a member cannot make this node report a half-authenticated cluster.
 */
async function noteSecretRefused(policy: AdmissionPolicy, metadata: grpc.Metadata, remote: string): Promise<void> {
  const [claimed] = metadata.get(SOURCE_KEY);
  if (policy.onSecretRefused === undefined || typeof claimed !== "string" || !policy.isMember(claimed)) return;
  if ((await policy.identity.mismatch(claimed, remote)) === undefined) policy.onSecretRefused(claimed);
}

function refusal(err: unknown): { code: grpc.status; details: string } {
  if (err instanceof CallRefused) return { code: err.code, details: err.message };
  return { code: grpc.status.INTERNAL, details: `admission failed: ${err instanceof Error ? err.message : String(err)}` };
}

export function admissionInterceptor(policy: AdmissionPolicy): grpc.ServerInterceptor {
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, pass) => {
            if (policy.isOpen(method.path)) {
              pass(metadata);
              return;
            }
            admitCall(policy, metadata, call).then(
              (source) => {
                admitted.set(metadata, source);
                pass(metadata);
              },
              (err: unknown) => {
                const status = refusal(err);
                policy.log?.warn("peer call refused", { rpc: method.path, code: grpc.status[status.code], reason: status.details });
                call.sendStatus(status);
              },
            );
          },
        }),
    });
}
