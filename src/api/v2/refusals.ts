/**
 * How a refusal becomes 2.x's answer: the HTTP status 2.x gives the case and its `ErrorCode`. Refusals come from
 * the validators (params.ts, write-params.ts), the guard, fastify itself, and the core's writes — a write
 * forwarded to its owner brings back only a status and a message (a Nacos 1.4 owner's included), so a write's
 * refusal is recognized by its message, which is 1.4's and stable. Whatever no rule names keeps its status and
 * gets the code 2.x's exception handler gives that kind of failure.
 */
import { NacosError } from "../../core/errors.js";
import { NotReadyError } from "../../node/ports.js";
import { ApiError, ErrorCode } from "./result.js";

interface Rule {
  readonly message: RegExp;
  readonly code: ErrorCode;
  /** 2.x's status where it differs from ours. */
  readonly status?: number;
}

const RULES: readonly Rule[] = [
  { message: /^Param '[^']*' is required\.$/, code: ErrorCode.PARAMETER_MISSING },
  { message: /^instance format invalid: The weights/, code: ErrorCode.WEIGHT_ERROR },
  // 2.x parses service metadata with the instances' parser, and so its code.
  { message: /^metadata format incorrect:/, code: ErrorCode.INSTANCE_METADATA_ERROR },
  { message: /^cluster name can only have/, code: ErrorCode.INSTANCE_ERROR },
  { message: /^Param 'selector'/, code: ErrorCode.SELECTOR_ERROR },
  { message: /^specified service already exists/, code: ErrorCode.SERVICE_ALREADY_EXIST },
  { message: /^specified service not exist|^service .* not found!$/, code: ErrorCode.SERVICE_NOT_EXIST },
  { message: /^instance not exist:/, code: ErrorCode.INSTANCE_NOT_FOUND },
  // A patch of an instance that is not there: 2.x looks it up first and answers 404.
  { message: /^instance not found$/, code: ErrorCode.RESOURCE_NOT_FOUND, status: 404 },
  // 2.x's health operator throws a plain NacosException(400), which its handler answers as a server error.
  { message: /^health check is still working/, code: ErrorCode.SERVER_ERROR },
];

/** The message our core (and 1.4) gives a write on a service that does not exist: its code depends on the write. */
const SERVICE_MISSING = /^service not found, namespace:/;

function byStatus(status: number): ErrorCode {
  if (status === 403) return ErrorCode.ACCESS_DENIED;
  if (status === 404) return ErrorCode.RESOURCE_NOT_FOUND;
  return status >= 400 && status < 500 ? ErrorCode.PARAMETER_VALIDATE_ERROR : ErrorCode.SERVER_ERROR;
}

/**
 * 2.x's refusal for a failure: an ApiError as it is; a NacosError by its message, else its status;
 * `serviceMissing` is the code for a write on a service that does not exist.
 */
export function refusalOf(
  err: Error & { statusCode?: number; code?: string },
  serviceMissing: ErrorCode = ErrorCode.SERVICE_NOT_EXIST,
  bodyLimit = 0,
): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof NacosError) {
    if (SERVICE_MISSING.test(err.message)) return new ApiError(err.status, serviceMissing, err.message);
    const rule = RULES.find((r) => r.message.test(err.message));
    return new ApiError(rule?.status ?? err.status, rule?.code ?? byStatus(err.status), err.message);
  }
  if (err instanceof NotReadyError) return new ApiError(503, ErrorCode.SERVER_ERROR, err.message);
  if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
    return new ApiError(413, ErrorCode.PARAMETER_VALIDATE_ERROR, `request body is larger than the limit of ${bodyLimit} bytes`);
  }
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return new ApiError(err.statusCode, ErrorCode.PARAMETER_VALIDATE_ERROR, err.message);
  }
  return new ApiError(500, ErrorCode.SERVER_ERROR, `caused: ${err.message};`);
}
