/**
 * The shared cluster secret both peer transports check. Over gRPC it travels in call metadata; over HTTP in
 * one header, the way Nacos 1.4 peers send
 * `nacos.core.auth.server.identity.key: ...identity.value`. A 1.4 node joins a secured ts-nacos cluster with
 * `nacos.core.auth.enabled=true`, `nacos.core.auth.server.identity.key=X-Nacos-Cluster-Secret` and
 * `nacos.core.auth.server.identity.value=<the cluster secret>`; it then sends the header on every peer call.
 */
import { createHash, timingSafeEqual } from "node:crypto";

export const CLUSTER_SECRET_HEADER = "X-Nacos-Cluster-Secret";

const digest = (text: string): Buffer => createHash("sha256").update(text, "utf8").digest();

/** Constant-time comparison (of digests, so lengths never leak either). */
export function secretMatches(presented: string | readonly string[] | undefined, secret: string): boolean {
  if (typeof presented !== "string") return false;
  return timingSafeEqual(digest(presented), digest(secret));
}
