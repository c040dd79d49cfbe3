// The one table from (service, method) to its implementation, and the call path both the gRPC
// listener and the JSON mirror take through it.

import type { ControlBackend } from '../backend'
import { ControlError, GrpcStatus } from '../errors'
import type { Plain, ServiceName } from '../protos'
import { handlerService } from './handler'
import { loggerService } from './logger'
import { statsService } from './stats'
import type { MethodImpl, ServiceImpl } from './types'

export const SERVICE_IMPLS: Record<ServiceName, ServiceImpl> = {
  StatsService: statsService,
  LoggerService: loggerService,
  HandlerService: handlerService,
}

export function implOf(service: ServiceName, method: string): MethodImpl {
  const impl = Object.hasOwn(SERVICE_IMPLS[service], method)
    ? SERVICE_IMPLS[service][method]
    : undefined
  if (!impl)
    throw new ControlError(GrpcStatus.UNIMPLEMENTED, `${service}.${method} is not implemented`)
  return impl
}

export async function runMethod(
  backend: ControlBackend,
  service: ServiceName,
  method: string,
  req: Plain,
): Promise<Plain> {
  return implOf(service, method)(backend, req)
}
