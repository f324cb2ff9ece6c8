/**
 * Push over the client port: `NotifySubscriberRequest{serviceInfo}` on the connection's bi-stream, acknowledged by
 * `NotifySubscriberResponse`. The port bounds the requests in flight per connection and how long each waits.
 */
import type { ServiceInfo } from "../../core/service-info.js";
import type { StreamPushChannel } from "../../push/stream-push-channel.js";
import type { ClientPort } from "./client-port.js";
import { SUCCESS } from "./responses.js";

export class ClientStreamPushChannel implements StreamPushChannel {
  private port: ClientPort | undefined;

  /** The port pushes go through, once it is listening (push is built before it: the port's handler subscribes). */
  attach(port: ClientPort): void {
    this.port = port;
  }

  async push(connectionId: string, info: ServiceInfo): Promise<boolean> {
    const port = this.port;
    if (port === undefined) return false;
    // The fields of Nacos's NotifySubscriberRequest; the clients read serviceInfo.
    const body = { module: "naming", serviceName: info.name, groupName: info.groupName, serviceInfo: info };
    const answer = await port.request(connectionId, "NotifySubscriberRequest", body);
    return answer?.resultCode === SUCCESS;
  }
}
