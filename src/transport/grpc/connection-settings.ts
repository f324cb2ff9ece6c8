/**
 * Settings both ends of a peer connection share. Message limits are explicit on both sides because grpc-js
 * defaults to 4 MB for what it receives, which one large sync or query answer can exceed.
 */
import type * as grpc from "@grpc/grpc-js";

export interface ConnectionSettings {
  /**
   * Largest message sent or received, in bytes. The protocol needs little: snapshot chunks are 256 KiB and
   * every other message is kept within this by its sender, so the default is grpc's own 4 MiB.
   */
  readonly maxMessageBytes: number;
  /** Calls one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentStreams: number;
  /** Ping an idle connection this often, to find a dead peer without waiting for a call to time out. */
  readonly keepaliveTimeMs: number;
  /** Drop the connection when a ping is not answered within this time. */
  readonly keepaliveTimeoutMs: number;
}

/** Room left in a message for what surrounds its datums (framing, counters, tokens). */
export const MESSAGE_OVERHEAD_BYTES = 64 * 1024;

/** Everything but the message limit, which is an option of the node (`--max-message-bytes`). */
export const DEFAULT_CONNECTION_SETTINGS: Omit<ConnectionSettings, "maxMessageBytes"> = Object.freeze({
  maxConcurrentStreams: 128,
  keepaliveTimeMs: 30_000,
  keepaliveTimeoutMs: 10_000,
});

export function channelOptions(settings: ConnectionSettings): grpc.ChannelOptions {
  return {
    "grpc.max_send_message_length": settings.maxMessageBytes,
    "grpc.max_receive_message_length": settings.maxMessageBytes,
    "grpc.keepalive_time_ms": settings.keepaliveTimeMs,
    "grpc.keepalive_timeout_ms": settings.keepaliveTimeoutMs,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.max_concurrent_streams": settings.maxConcurrentStreams,
  };
}
