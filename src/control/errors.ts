// ControlError: the one error the control services throw, carrying a gRPC status code.
// Also turns any other thrown value (AppError from the gateway's services, bugs) into one.

import { AppError } from '../shared/errors'

/** gRPC status codes (the numbers are fixed by the gRPC protocol). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const

export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus]

export class ControlError extends Error {
  readonly grpcStatus: GrpcStatusCode

  constructor(grpcStatus: GrpcStatusCode, message: string) {
    super(message)
    this.name = 'ControlError'
    this.grpcStatus = grpcStatus
  }

  /** The HTTP status the JSON mirror answers with. */
  get httpStatus(): number {
    return HTTP_OF[this.grpcStatus] ?? 500
  }
}

const HTTP_OF: Partial<Record<GrpcStatusCode, number>> = {
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.FAILED_PRECONDITION]: 400,
  [GrpcStatus.OUT_OF_RANGE]: 400,
  [GrpcStatus.UNAUTHENTICATED]: 401,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.ABORTED]: 409,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
}

/** gRPC status for an AppError, by the HTTP status its code stands for. */
function statusOfHttp(http: number): GrpcStatusCode {
  if (http === 400 || http === 413) return GrpcStatus.INVALID_ARGUMENT
  if (http === 401) return GrpcStatus.UNAUTHENTICATED
  if (http === 402) return GrpcStatus.FAILED_PRECONDITION
  if (http === 403) return GrpcStatus.PERMISSION_DENIED
  if (http === 404) return GrpcStatus.NOT_FOUND
  if (http === 409) return GrpcStatus.ALREADY_EXISTS
  if (http === 429) return GrpcStatus.RESOURCE_EXHAUSTED
  if (http === 503) return GrpcStatus.UNAVAILABLE
  return GrpcStatus.INTERNAL
}

/**
 * Any thrown value as a ControlError. `internal` is false for errors whose message is meant for
 * the caller (ControlError, AppError); true for anything else, whose message is replaced so no
 * internals leak and which the caller should log.
 */
export function toControlError(e: unknown): { error: ControlError; internal: boolean } {
  if (e instanceof ControlError) return { error: e, internal: false }
  if (e instanceof AppError) {
    // 500 is a bug; other AppErrors (also upstream 502-504) carry a message meant for callers.
    const internal = e.status === 500
    const message = internal ? 'internal error' : e.message
    return { error: new ControlError(statusOfHttp(e.status), message), internal }
  }
  return { error: new ControlError(GrpcStatus.INTERNAL, 'internal error'), internal: true }
}
