/**
 * The legacy transport's HTTP carried over the simulated network: each call is a message to the target's
 * real HTTP app (its client API and the Nacos 1.4 peer endpoints), answered through `inject()`, so a
 * simulated node speaking `--peer-transport http` runs exactly the production legacy code on both ends.
 */
import type { IncomingHttpHeaders } from "node:http";
import { splitAddress } from "../core/address.js";
import { PeerError } from "../node/ports.js";
import {
  peerRequestHeaders,
  type Nacos14Http,
  type Nacos14HttpOptions,
  type PeerAnswer,
  type PeerCall,
  type PeerStream,
} from "../transport/nacos14/http.js";
import type { SimNetwork } from "./sim-network.js";

export class SimNacos14Http implements Nacos14Http {
  constructor(
    private readonly self: string,
    private readonly network: SimNetwork,
    private readonly options: Nacos14HttpOptions,
  ) {}

  async call(peer: string, call: PeerCall): Promise<PeerAnswer> {
    const { status, body } = await this.exchange(peer, call);
    return { status, body };
  }

  /** The simulated answer arrives whole; it is handed over as a stream of one piece. */
  async open(peer: string, call: PeerCall): Promise<PeerStream> {
    const { status, body, headers } = await this.exchange(peer, call);
    return {
      status,
      headers,
      async *text() {
        yield body;
      },
    };
  }

  close(): void {}

  private exchange(peer: string, call: PeerCall) {
    const search = new URLSearchParams(call.query).toString();
    const url = call.path + (search === "" ? "" : `?${search}`);
    const headers = peerRequestHeaders(this.options, call);
    return this.network.call(this.self, peer, async (endpoint) => {
      if (endpoint.http === undefined) throw new PeerError("refused", peer, "connection refused (no HTTP port)");
      // The call comes from this node's own address, as a real connection would.
      const remoteAddress = splitAddress(this.self).host;
      const payload = call.body === undefined ? {} : { payload: call.body };
      const res = await endpoint.http.inject({ method: call.method, url, headers, remoteAddress, ...payload });
      return { status: res.statusCode, body: res.body, headers: res.headers as IncomingHttpHeaders };
    });
  }
}
