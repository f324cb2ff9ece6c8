/** The calls the legacy peer endpoints make back to the peer that called them, to fetch what differs. */
import type { LegacyDatum } from "./codecs/datum.js";

export interface LegacyPeerClient {
  /** `GET /nacos/v1/ns/distro/datum` with `{"keys":"k1,k2"}` as its body; keys the peer lacks are left out. */
  fetchDatums(peer: string, keys: readonly string[]): Promise<LegacyDatum[]>;
  /** `GET /nacos/v1/ns/instance/statuses?key=`: health of the service's instances, by `ip:port`. */
  fetchStatuses(peer: string, key: string): Promise<Map<string, boolean>>;
}
