/**
 * Who is asking, from the User-Agent (or Client-Version) a 1.x client sends, as Nacos 1.4's ClientInfo
 * reads it. The agent decides two things that polled and pushed answers must agree on: whether names are
 * shown grouped, and whether the client can receive UDP pushes at all.
 */
import type { Switches } from "../core/switches.js";

export type ClientType = "java" | "java-sdk" | "dns" | "c" | "go" | "csharp" | "server" | "unknown";

/** major, minor, patch, and whether anything followed them (Jackson calls that a snapshot; it sorts first). */
export interface ClientVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly suffixed: boolean;
}

export interface ClientAgent {
  readonly type: ClientType;
  readonly version: ClientVersion;
}

const AGENT_PREFIXES: ReadonlyArray<readonly [string, ClientType]> = [
  ["Nacos-Java-Client", "java"],
  ["Nacos-DNS", "dns"],
  ["Nacos-C-Client", "c"],
  ["Nacos-SDK-Java", "java-sdk"],
  ["Nacos-Go-Client", "go"],
  ["Nacos-CSharp-Client", "csharp"],
  ["Nacos-Server", "server"],
];

const UNKNOWN_VERSION: ClientVersion = { major: 0, minor: 0, patch: 0, suffixed: false };

/** Jackson's VersionUtil.parseVersion: split on `-_./;:`, take the leading digits of the first three parts. */
export function parseClientVersion(text: string): ClientVersion {
  const parts = text.trim().split(/[-_./;:]/);
  if (parts[0] === "") return UNKNOWN_VERSION;
  const part = (i: number): number => Number(/^\d*/.exec(parts[i] ?? "")?.[0] || 0);
  return { major: part(0), minor: part(1), patch: part(2), suffixed: (parts[3] ?? "") !== "" };
}

export function compareClientVersions(a: ClientVersion, b: ClientVersion): number {
  const diff = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (diff !== 0) return Math.sign(diff);
  return a.suffixed === b.suffixed ? 0 : a.suffixed ? -1 : 1;
}

export function parseClientAgent(agent: string): ClientAgent {
  for (const [prefix, type] of AGENT_PREFIXES) {
    if (!agent.startsWith(prefix)) continue;
    const marker = `${prefix}:v`;
    const version = agent.startsWith(marker) ? agent.slice(marker.length) : agent;
    return { type, version: parseClientVersion(version) };
  }
  return { type: "unknown", version: UNKNOWN_VERSION };
}

const GROUPED_NAMES_SINCE = parseClientVersion("1.0.0");

/**
 * A Nacos Java client ≥ 1.0.0 (the npm SDK sends `Nacos-Java-Client:v1.0.0` too). 1.4 treats these
 * specially: they file answers under grouped names, and their `PUT /instance` updates only what exists.
 */
export function isModernJavaClient(agent: string): boolean {
  const { type, version } = parseClientAgent(agent);
  return type === "java" && compareClientVersions(version, GROUPED_NAMES_SINCE) >= 0;
}

/** Whether answers (polled or pushed) show grouped names to this client. */
export const wantsGroupedNames = isModernJavaClient;

/** The per-type minimum version for UDP push, from the switches (1.4 has no Python type; DNS uses its entry). */
function pushMinimum(type: ClientType, switches: Switches): string | undefined {
  switch (type) {
    case "java":
      return switches.pushJavaVersion;
    case "dns":
      return switches.pushPythonVersion;
    case "c":
      return switches.pushCVersion;
    case "go":
      return switches.pushGoVersion;
    case "csharp":
      return switches.pushCSharpVersion;
    default:
      return undefined;
  }
}

/** 1.4's `canEnablePush`: push is switched on and the agent is a known type at or above its push minimum. */
export function acceptsUdpPush(agent: string, switches: Switches): boolean {
  if (!switches.pushEnabled) return false;
  const { type, version } = parseClientAgent(agent);
  const minimum = pushMinimum(type, switches);
  return minimum !== undefined && compareClientVersions(version, parseClientVersion(minimum)) >= 0;
}
