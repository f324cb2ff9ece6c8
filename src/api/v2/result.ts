/**
 * Nacos 2.x's answer envelope for its v2 OpenAPI (`com.alibaba.nacos.api.model.v2.Result`): `{code, message,
 * data}`, code 0 and message "success" on success. A refusal (`NacosApiException`) keeps the HTTP status as its
 * category (400, 403, 404, 500, 503) and carries a detail code from `ErrorCode`, that code's short text as the
 * message, and what exactly was wrong as `data` (2.x's NacosApiExceptionHandler).
 */

/** The detail codes of `com.alibaba.nacos.api.model.v2.ErrorCode` that naming answers with. */
export const ErrorCode = {
  PARAMETER_MISSING: { code: 10000, message: "parameter missing" },
  ACCESS_DENIED: { code: 10001, message: "access denied" },
  PARAMETER_VALIDATE_ERROR: { code: 20002, message: "parameter validate error" },
  RESOURCE_NOT_FOUND: { code: 20004, message: "resource not found" },
  WEIGHT_ERROR: { code: 21001, message: "weight error" },
  INSTANCE_METADATA_ERROR: { code: 21002, message: "instance metadata error" },
  INSTANCE_NOT_FOUND: { code: 21003, message: "instance not found" },
  INSTANCE_ERROR: { code: 21004, message: "instance error" },
  SELECTOR_ERROR: { code: 21006, message: "selector error" },
  SERVICE_ALREADY_EXIST: { code: 21007, message: "service already exist" },
  SERVICE_NOT_EXIST: { code: 21008, message: "service not exist" },
  SERVICE_DELETE_FAILURE: { code: 21009, message: "service delete failure" },
  SERVER_ERROR: { code: 30000, message: "server error" },
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface Result<T> {
  readonly code: number;
  readonly message: string;
  readonly data: T;
}

export const success = <T>(data: T): Result<T> => ({ code: 0, message: "success", data });

/** A refusal as 2.x answers it: `status` is the HTTP status, `detail` what was wrong (the envelope's `data`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: ErrorCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "ApiError";
  }

  get result(): Result<string> {
    return { code: this.errorCode.code, message: this.errorCode.message, data: this.detail };
  }
}
