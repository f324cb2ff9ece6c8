/**
 * The network as push to a 2.x client connection sees it: one request on the connection's stream, answered by
 * the client. The push logic depends only on this, so it runs under a virtual clock with a fake channel; the real
 * one is the client port's (transport/nacos2/stream-push-channel.ts).
 */
import type { ServiceInfo } from "../core/service-info.js";

export interface StreamPushChannel {
  /**
   * Sends NotifySubscriberRequest{serviceInfo}; resolves true once the client answered NotifySubscriberResponse,
   * false when it failed, timed out or the connection is gone. Never more than a bounded number in flight per
   * connection; never throws.
   */
  push(connectionId: string, info: ServiceInfo): Promise<boolean>;
}
