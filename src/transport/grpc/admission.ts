/**
 * Admission of every peer call from its metadata and connection alone, as a grpc-js server interceptor.
 * grpc-js reads a call's message only after its metadata has been passed on, so a refused call costs its
 * headers and nothing more: no byte of its message is buffered beyond the HTTP/2 window, none is decoded.
 * Admitted calls reach the handlers with their caller's member address (`admittedSource`).
 */
import * as grpc from "@grpc/grpc-js";
import type { Log } from "../../core/log.js";
import type { PeerIdentity } from "../peer-identity.js";
import { admit, CallRefused } from "./metadata.js";

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
  readonly log?: Log | undefined;
}

const admitted = new WeakMap<grpc.Metadata, string | undefined>();

/** The member address an admitted call came from (undefined only for the open methods, which are not admitted). */
export const admittedSource = (metadata: grpc.Metadata): string | undefined => admitted.get(metadata);

async function admitCall(policy: AdmissionPolicy, metadata: grpc.Metadata, call: grpc.ServerInterceptingCallInterface): Promise<string> {
  const source = admit(metadata, policy.secret, policy.isMember);
  const remote = call.getConnectionInfo().remoteAddress ?? "";
  const certificate = policy.checkCertificate ? call.getAuthContext().sslPeerCertificate : undefined;
  const mismatch = await policy.identity.mismatch(source, remote, certificate);
  if (mismatch !== undefined) throw new CallRefused(grpc.status.PERMISSION_DENIED, `x-nacos-source: ${mismatch}`);
  return source;
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
