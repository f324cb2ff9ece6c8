/**
 * The Nacos 2.x `Payload` (nacos_grpc_service.proto): `metadata.type` names the message's Java class, `body` is a
 * `google.protobuf.Any` whose value is the message as JSON. Reading checks the sizes before it parses anything:
 * the protobuf frame is bounded by grpc's message limit, the JSON by `maxBodyBytes`; unknown JSON fields are
 * simply carried (the handlers read what they know). Writing leaves nulls out, as Nacos's Jackson does.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PayloadSchema } from "../../../gen/nacos2/nacos_grpc_service_pb.js";
import { ErrorCode } from "./responses.js";

/** A message from a client, read but not yet checked field by field. */
export interface ClientMessage {
  readonly type: string;
  /** What the client says its IP is (never trusted for anything but logs). */
  readonly clientIp: string;
  /** `Metadata.headers` over the body's own `headers` map (as Nacos merges them), keys lower-cased. */
  readonly headers: ReadonlyMap<string, string>;
  /** The JSON body, an object; undefined when it is none, and `problem` says why. */
  readonly body: Readonly<Record<string, unknown>> | undefined;
  readonly problem: PayloadProblem | undefined;
}

/** Why a body is refused, and the error code its answer carries: too large (400), or not a JSON object (502, as Nacos). */
export interface PayloadProblem {
  readonly errorCode: number;
  readonly message: string;
}

type Body =
  | { readonly body: Readonly<Record<string, unknown>>; readonly problem: undefined }
  | { readonly body: undefined; readonly problem: PayloadProblem };

const utf8 = new TextDecoder("utf-8", { fatal: true });

const refused = (message: string, errorCode: number = ErrorCode.BAD_GATEWAY): Body => ({
  body: undefined,
  problem: { errorCode, message },
});

function jsonBody(value: Uint8Array, maxBodyBytes: number): Body {
  if (value.byteLength > maxBodyBytes) {
    return refused(`request body of ${value.byteLength} bytes is more than the ${maxBodyBytes} bytes allowed`, ErrorCode.INVALID_PARAM);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(value));
  } catch (err) {
    return refused(`request body is not JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return refused("request body is not a JSON object");
  return { body: parsed as Record<string, unknown>, problem: undefined };
}

function mergedHeaders(body: ClientMessage["body"], metadata: Readonly<Record<string, string>>): Map<string, string> {
  const headers = new Map<string, string>();
  const own = body?.headers;
  if (own !== null && typeof own === "object" && !Array.isArray(own)) {
    for (const [k, v] of Object.entries(own)) if (typeof v === "string") headers.set(k.toLowerCase(), v);
  }
  for (const [k, v] of Object.entries(metadata)) headers.set(k.toLowerCase(), v);
  return headers;
}

/** Reads a payload; undefined when the bytes are not a Payload at all. */
export function readPayload(bytes: Uint8Array, maxBodyBytes: number): ClientMessage | undefined {
  let payload: ReturnType<typeof fromBinary<typeof PayloadSchema>>;
  try {
    payload = fromBinary(PayloadSchema, bytes);
  } catch {
    return undefined;
  }
  const metadata = payload.metadata;
  const { body, problem } = payload.body === undefined ? refused("the payload has no body") : jsonBody(payload.body.value, maxBodyBytes);
  return {
    type: metadata?.type ?? "",
    clientIp: metadata?.clientIp ?? "",
    headers: mergedHeaders(body, metadata?.headers ?? {}),
    body,
    problem,
  };
}

const encoder = new TextEncoder();

/** A payload of `type` carrying `body` as JSON (undefined fields are left out by JSON.stringify). */
export function writePayload(type: string, body: Readonly<Record<string, unknown>>): Buffer {
  const bytes = toBinary(
    PayloadSchema,
    create(PayloadSchema, { metadata: { type }, body: { typeUrl: "", value: encoder.encode(JSON.stringify(body)) } }),
  );
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
