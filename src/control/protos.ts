// The control API's protobuf schema, parsed from the .proto files embedded in the binary, and
// the one codec (plain object <-> bytes) shared by the gRPC listener and the JSON mirror.

import protobuf from 'protobufjs'
import core from './protos/core.proto' with { type: 'text' }
import handler from './protos/handler.proto' with { type: 'text' }
import logger from './protos/logger.proto' with { type: 'text' }
import stats from './protos/stats.proto' with { type: 'text' }
import typedMessage from './protos/typed_message.proto' with { type: 'text' }
import user from './protos/user.proto' with { type: 'text' }
import xgate from './protos/xgate.proto' with { type: 'text' }

/** Short service name -> its package under Xray's naming; V2Ray's legacy name adds a prefix. */
export const SERVICE_PACKAGES = {
  StatsService: 'app.stats.command',
  LoggerService: 'app.log.command',
  HandlerService: 'app.proxyman.command',
} as const

export type ServiceName = keyof typeof SERVICE_PACKAGES

export function isServiceName(s: string): s is ServiceName {
  return Object.hasOwn(SERVICE_PACKAGES, s)
}

/** Both fully qualified names a service answers to, as Xray registers them. */
export function qualifiedNames(service: ServiceName): [string, string] {
  const pkg = SERVICE_PACKAGES[service]
  return [`xray.${pkg}.${service}`, `v2ray.core.${pkg}.${service}`]
}

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root()
  // keepCase: field names stay as declared (NumGoroutine, proxy_settings), in gRPC and JSON alike.
  for (const text of [typedMessage, user, core, stats, logger, handler, xgate]) {
    protobuf.parse(text, root, { keepCase: true })
  }
  root.resolveAll()
  return root
}

export const root = buildRoot()

/**
 * How decoded messages look to the services: every field present (proto3 defaults filled in),
 * int64 as number (counters stay below 2^53), bytes as Uint8Array, maps as plain objects.
 */
const PLAIN: protobuf.IConversionOptions = {
  longs: Number,
  defaults: true,
  arrays: true,
  objects: true,
}
/** The JSON mirror's output: the same, with bytes as base64 strings. */
const JSON_OUT: protobuf.IConversionOptions = { ...PLAIN, bytes: String }

export type Plain = Record<string, unknown>

export function lookupType(fullName: string): protobuf.Type {
  return root.lookupType(fullName)
}

export function decode(type: protobuf.Type, bytes: Uint8Array): Plain {
  return type.toObject(type.decode(bytes), PLAIN)
}

export function encode(type: protobuf.Type, obj: Plain): Uint8Array {
  return type.encode(type.fromObject(obj)).finish()
}

/** A JSON body as the plain message gRPC would have decoded; throws with a reason if not one. */
export function fromJson(type: protobuf.Type, json: unknown): Plain {
  const obj = json ?? {}
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new Error('body must be a JSON object')
  const why = type.verify(obj)
  if (why) throw new Error(why)
  return type.toObject(type.fromObject(obj as Plain), PLAIN)
}

export function toJson(type: protobuf.Type, obj: Plain): Plain {
  return type.toObject(type.fromObject(obj), JSON_OUT)
}

/** A TypedMessage {type, value} holding obj encoded as the named xgate/Xray message. */
export function typed(typeName: string, obj: Plain): Plain {
  return { type: typeName, value: encode(lookupType(typeName), obj) }
}

export type MethodSchema = { name: string; request: protobuf.Type; response: protobuf.Type }

const methodCache = new Map<ServiceName, MethodSchema[]>()

/** The methods of a service, in declaration order, with resolved request/response types. */
export function methodsOf(service: ServiceName): MethodSchema[] {
  const cached = methodCache.get(service)
  if (cached) return cached
  const svc = root.lookupService(qualifiedNames(service)[0])
  const methods = svc.methodsArray.map((m) => {
    m.resolve()
    if (!m.resolvedRequestType || !m.resolvedResponseType) throw new Error(`unresolved ${m.name}`)
    return { name: m.name, request: m.resolvedRequestType, response: m.resolvedResponseType }
  })
  methodCache.set(service, methods)
  return methods
}
