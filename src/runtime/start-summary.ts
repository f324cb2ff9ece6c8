/**
 * What a person needs to know once a node is up, in a few lines: where to point a browser and a client, which
 * ports it listens on, who its members are, where its data is, and whether auth and peer security are on. Never
 * a secret: only whether one is set and where it came from.
 */
import { joinAddress } from "../core/address.js";
import { effectivePeerTransport, type RuntimeConfig } from "./options.js";

/** The address a local browser or client reaches the node by: the bind host, or this node's IP when it binds every interface. */
function reachableHost(config: Pick<RuntimeConfig, "host" | "ip">): string {
  return config.host === "0.0.0.0" || config.host === "::" ? config.ip : config.host;
}

export interface NodeUrls {
  /** The console (the browser UI). */
  readonly consoleUrl: string;
  /** The Nacos 1.x naming OpenAPI; the v2 one is beside it at /nacos/v2/ns. */
  readonly apiUrl: string;
}

export function nodeUrls(config: Pick<RuntimeConfig, "host" | "ip" | "port">): NodeUrls {
  const base = `http://${joinAddress(reachableHost(config), config.port)}/nacos`;
  return { consoleUrl: `${base}/`, apiUrl: `${base}/v1/ns` };
}

/** The summary as label and value pairs, one line each. */
export function summaryOf(config: RuntimeConfig): Array<readonly [string, string]> {
  const urls = nodeUrls(config);
  const onOff = (on: boolean): string => (on ? "TLS on" : "TLS off");
  const secret = config.clusterSecret === undefined ? "no cluster secret" : `cluster secret set (${config.clusterSecretSource})`;
  const lines: Array<readonly [string, string]> = [
    ["console", urls.consoleUrl],
    ["API", `${urls.apiUrl} (v2: /nacos/v2/ns)`],
    ["HTTP port", `${config.port} on ${config.host}`],
    [
      "2.x client port",
      config.clientGrpcPort === undefined ? "off" : `${config.clientGrpcPort} (${onOff(config.clientTls !== undefined)})`,
    ],
  ];
  if (config.standalone) lines.push(["members", "standalone"]);
  else {
    lines.push(
      [
        "members",
        config.membersDns === undefined
          ? `${config.members.join(", ")} (from ${config.membersSource})`
          : `the records of ${config.membersSource}, looked up every ${config.membersRefreshMs} ms`,
      ],
      ["peer gRPC port", `${config.grpcPort} (${onOff(config.tls !== undefined)})`],
      ["peer transport", `${effectivePeerTransport(config)}, ${secret}`],
    );
  }
  lines.push(
    ["data directory", config.dataDir],
    ["auth", config.auth === undefined ? "off" : `on (tokens last ${config.auth.tokenTtlSeconds} s)`],
  );
  return lines;
}

/** The summary as a block of text: a title, then one aligned line per item (the pretty log indents them). */
export function summaryText(title: string, config: RuntimeConfig): string {
  const lines = summaryOf(config);
  const width = Math.max(...lines.map(([label]) => label.length));
  return [title, ...lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`)].join("\n");
}
