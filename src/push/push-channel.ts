/**
 * The network as UDP push sees it: best-effort datagrams out, acks in. The push logic depends only on
 * this, so it runs under a virtual clock with a fake channel; `udp-push-channel.ts` is the real one.
 */

/** A client's acknowledgement of one push, identified the way 1.4 does: source address plus echoed stamp. */
export interface PushAck {
  readonly ip: string;
  readonly port: number;
  readonly lastRefTime: number;
}

export interface PushChannel {
  /**
   * Hands one datagram to the network without waiting for the receiver. Never throws or rejects: resolves
   * false when the datagram could not be sent, which the caller treats like a lost datagram. A slow or
   * unreachable receiver must not hold up the next send.
   */
  send(datagram: Uint8Array, ip: string, port: number): Promise<boolean>;
  /**
   * Sets the receiver of every ack the channel could parse. `expecting` tells whether a push to an address
   * awaits its ack: datagrams from any other address are dropped before they are even parsed, so the socket
   * (whose port every push reveals) does no work for strangers.
   */
  onAck(listener: (ack: PushAck) => void, expecting: (ip: string, port: number) => boolean): void;
}
