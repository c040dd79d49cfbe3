// The one error class of xgate and the closed table of codes it may carry.
// Each code fixes the HTTP status and the error `type` shown in the OpenAI and Anthropic dialects.

type CodeInfo = { status: number; type: string; anthropicType: string }

const CODES = {
  bad_request: { status: 400, type: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  model_not_priced: { status: 400, type: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  missing_api_key: { status: 401, type: 'authentication_error', anthropicType: 'authentication_error' },
  invalid_api_key: { status: 401, type: 'authentication_error', anthropicType: 'authentication_error' },
  account_disabled: { status: 401, type: 'authentication_error', anthropicType: 'authentication_error' },
  api_balance_too_low: { status: 401, type: 'authentication_error', anthropicType: 'authentication_error' },
  insufficient_balance: { status: 402, type: 'insufficient_quota', anthropicType: 'billing_error' },
  forbidden: { status: 403, type: 'permission_error', anthropicType: 'permission_error' },
  ip_not_allowed: { status: 403, type: 'permission_error', anthropicType: 'permission_error' },
  model_not_allowed: { status: 403, type: 'permission_error', anthropicType: 'permission_error' },
  resource_not_allowed: { status: 403, type: 'permission_error', anthropicType: 'permission_error' },
  level_not_allowed: { status: 403, type: 'permission_error', anthropicType: 'permission_error' },
  not_found: { status: 404, type: 'not_found_error', anthropicType: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error', anthropicType: 'request_too_large' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error', anthropicType: 'rate_limit_error' },
  concurrency_limit_exceeded: { status: 429, type: 'rate_limit_error', anthropicType: 'rate_limit_error' },
  keys_busy: { status: 429, type: 'rate_limit_error', anthropicType: 'rate_limit_error' },
  hard_limit_reached: { status: 429, type: 'insufficient_quota', anthropicType: 'rate_limit_error' },
  client_closed: { status: 499, type: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  internal_error: { status: 500, type: 'server_error', anthropicType: 'api_error' },
  upstream_error: { status: 502, type: 'server_error', anthropicType: 'api_error' },
  no_available_key: { status: 503, type: 'server_error', anthropicType: 'overloaded_error' },
  store_unavailable: { status: 503, type: 'server_error', anthropicType: 'overloaded_error' },
  upstream_timeout: { status: 504, type: 'server_error', anthropicType: 'api_error' },
} as const satisfies Record<string, CodeInfo>

export type ErrorCode = keyof typeof CODES

export type AppErrorOptions = {
  /** Extra response headers (Retry-After, x-ratelimit-*). */
  headers?: Record<string, string>
  /** The request field the error is about, shown as `param` in the OpenAI dialect. */
  param?: string
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly headers: Record<string, string>
  readonly param?: string

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message)
    this.name = 'AppError'
    this.code = code
    this.status = CODES[code].status
    this.headers = options.headers ?? {}
    this.param = options.param
  }

  /** `{"error":{"message","type","code"}}`, the shape of every error on the OpenAI and admin surfaces. */
  toOpenAI(): { error: { message: string; type: string; code: string; param?: string } } {
    const error: { message: string; type: string; code: string; param?: string } = {
      message: this.message,
      type: CODES[this.code].type,
      code: this.code,
    }
    if (this.param) error.param = this.param
    return { error }
  }

  /** `{"type":"error","error":{"type","message"}}`, the Anthropic surface's shape. */
  toAnthropic(): { type: 'error'; error: { type: string; message: string } } {
    return { type: 'error', error: { type: CODES[this.code].anthropicType, message: this.message } }
  }
}

export function statusOf(code: ErrorCode): number {
  return CODES[code].status
}

/** An expected denial on the hot path, returned as a value and turned into one AppError later. */
export type Denial = { ok: false; code: ErrorCode; message: string; retryAfterMs?: number; headers?: Record<string, string> }

export function denialToError(d: Denial): AppError {
  const headers = { ...(d.headers ?? {}) }
  if (d.retryAfterMs !== undefined && !headers['retry-after']) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)))
  }
  return new AppError(d.code, d.message, { headers })
}
