/**
 * What every Nacos 2.x response carries, and the error codes the clients act on, as `com.alibaba.nacos.api`
 * defines them: `Response {resultCode, errorCode, message, requestId}` plus Jackson's `success` (from
 * `isSuccess()`); `resultCode` is 200 or 500 and `errorCode` says why (NacosException's codes). The clients check
 * the response's type name: an answer of the wrong type is read as an `ErrorResponse`.
 */

/** `ResponseCode`: the outcome. */
export const SUCCESS = 200;
export const FAIL = 500;

/** `NacosException` codes a response's `errorCode` carries. */
export const ErrorCode = {
  /** The server is starting (here also: still loading what its peers hold); the client tries another server. */
  STARTING: 300,
  /** The connection never sent ConnectionSetupRequest on its stream; the client reconnects. */
  UNREGISTERED: 301,
  /** No handler for the request's type. */
  NO_HANDLER: 302,
  INVALID_PARAM: 400,
  /** Authentication or authorization failed; the Java client logs in again. */
  NO_RIGHT: 403,
  SERVER_ERROR: 500,
  /** The payload could not be read as a request (Nacos's answer to an unparsable body). */
  BAD_GATEWAY: 502,
  /** Over a limit (subscriptions, in-flight requests). */
  OVER_THRESHOLD: 503,
} as const;

/** A response body as Jackson writes it (nulls left out). */
export type ResponseBody = Readonly<Record<string, unknown>>;

/** A successful response of a type, with its own fields. */
export function success(requestId: string | undefined, fields: ResponseBody = {}): ResponseBody {
  return { ...fields, resultCode: SUCCESS, errorCode: 0, ...(requestId === undefined ? {} : { requestId }), success: true };
}

/** `Response.setErrorInfo`: a refusal in the handler's own response type (as Nacos's filters answer). */
export function failure(requestId: string | undefined, errorCode: number, message: string, fields: ResponseBody = {}): ResponseBody {
  return { ...fields, resultCode: FAIL, errorCode, message, ...(requestId === undefined ? {} : { requestId }), success: false };
}

/** A response type name and its body: what one answer on the wire is. */
export interface TypedResponse {
  readonly type: string;
  readonly body: ResponseBody;
}

/** `ErrorResponse.build(code, message)`: the answer when no handler's type applies. */
export const errorResponse = (errorCode: number, message: string, requestId?: string): TypedResponse => ({
  type: "ErrorResponse",
  body: failure(requestId, errorCode, message),
});
