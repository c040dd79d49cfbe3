// The control API as JSON (for POST /x-api/<Service>/<Method> on the public listener): the same
// method implementations as gRPC, with the request checked against the same message type.
// JSON uses the .proto field names (NumGoroutine, proxy_settings); bytes are base64; int64 numbers.

import { ControlError, GrpcStatus, toControlError } from './errors'
import { fromJson, isServiceName, methodsOf, toJson, type Plain, type ServiceName } from './protos'
import type { ControlBackend } from './backend'
import { runMethod } from './services'

/** 'StatsService', or either fully qualified name of it. */
function serviceOf(name: string): ServiceName {
  const short = name.replace(/^(xray|v2ray\.core)\.app\.(stats|log|proxyman)\.command\./, '')
  if (!isServiceName(short))
    throw new ControlError(GrpcStatus.UNIMPLEMENTED, `unknown service "${name}"`)
  return short
}

/** Is `service/method` a method of the control API (either service name form)? */
export function hasMethod(service: string, method: string): boolean {
  try {
    return methodsOf(serviceOf(service)).some((m) => m.name === method)
  } catch {
    return false
  }
}

/**
 * Runs one control method from a JSON body. Returns the response message as JSON; throws a
 * ControlError (its `httpStatus` is the answer's status). Errors that are not the caller's
 * (bugs) come out as INTERNAL with no detail; `onInternal` receives the original to log it.
 */
export async function callControl(
  backend: ControlBackend,
  service: string,
  method: string,
  jsonBody: unknown,
  onInternal?: (e: unknown) => void,
): Promise<Plain> {
  const svc = serviceOf(service)
  const schema = methodsOf(svc).find((m) => m.name === method)
  if (!schema) throw new ControlError(GrpcStatus.UNIMPLEMENTED, `unknown method "${svc}.${method}"`)
  let req: Plain
  try {
    req = fromJson(schema.request, jsonBody)
  } catch (e) {
    const why = (e as Error).message
    throw new ControlError(GrpcStatus.INVALID_ARGUMENT, `bad ${schema.request.name}: ${why}`)
  }
  try {
    return toJson(schema.response, await runMethod(backend, svc, method, req))
  } catch (e) {
    const { error, internal } = toControlError(e)
    if (internal) onInternal?.(e)
    throw error
  }
}
