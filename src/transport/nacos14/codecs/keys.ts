/**
 * Nacos 1.4's Distro keys and ours. 1.4 names an ephemeral instance list
 * `com.alibaba.nacos.naming.iplist.ephemeral.{ns}##{group@@svc}`; the registry names the service `{ns}##{group@@svc}`.
 * Only ephemeral lists are Distro data in 1.4: persistent lists (`...iplist.{ns}##...`) and service metadata
 * (`...domains.meta.`) live in its Raft store, so they never arrive here and are never sent.
 */
import { NacosError, badRequest } from "../../../core/errors.js";
import { checkServiceKey } from "../../../core/naming.js";

const EPHEMERAL_KEY_PREFIX = "com.alibaba.nacos.naming.iplist.ephemeral.";
/** 1.4's "brief" form of the same key (`KeyBuilder.briefInstanceListkey`). */
const BRIEF_EPHEMERAL_KEY_PREFIX = "iplist.ephemeral.";

export const toLegacyKey = (serviceKey: string): string => EPHEMERAL_KEY_PREFIX + serviceKey;

/**
 * The service key inside a 1.4 ephemeral instance-list key; undefined for any other 1.4 key (those belong to
 * its Raft store and are ignored, as 1.4's own Distro endpoints ignore them). Throws a 400 for an ephemeral
 * key whose service part is malformed.
 */
export function fromLegacyKey(legacyKey: string): string | undefined {
  const prefix = [EPHEMERAL_KEY_PREFIX, BRIEF_EPHEMERAL_KEY_PREFIX].find((p) => legacyKey.startsWith(p));
  if (prefix === undefined) return undefined;
  const key = legacyKey.slice(prefix.length);
  try {
    checkServiceKey(key);
  } catch (err) {
    if (err instanceof NacosError) throw badRequest(`invalid distro key '${legacyKey}': ${err.message}`);
    throw err;
  }
  return key;
}
