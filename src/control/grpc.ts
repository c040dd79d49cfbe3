// The control API's gRPC listener: StatsService, LoggerService and HandlerService under both
// xray.app.* and v2ray.core.app.* names, on a loopback port or a unix socket (SPEC §9).

import { createHash, timingSafeEqual } from 'node:crypto'
import { rmSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import type { ControlBackend } from './backend'
import { toControlError } from './errors'
import { bindAddress, clearStaleSocket, parseListen } from './listen'
import {
  decode,
  encode,
  isServiceName,
  methodsOf,
  qualifiedNames,
  SERVICE_PACKAGES,
  type MethodSchema,
  type Plain,
  type ServiceName,
} from './protos'
import { runMethod } from './services'

export type ControlLog = {
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
}

export type ControlServerOptions = {
  /** 'host:port' (port 0 = any free port) or an absolute unix socket path. */
  listen: string
  /** Short names: 'HandlerService', 'LoggerService', 'StatsService'. Empty = not started. */
  services: string[]
  /** When set, every call must carry `authorization: Bearer TOKEN` or `x-api-token: TOKEN`. */
  token?: string
  backend: ControlBackend
  log?: ControlLog
  /** Several nodes: NODE_ID, sent with every answer as the `xgate-node` metadata. */
  node?: string
}

export type ControlServer = { address: string; port?: number; stop(): Promise<void> }

const STOP_GRACE_MS = 2000
const toBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength)

function methodDefinition(qualified: string, m: MethodSchema): grpc.MethodDefinition<Plain, Plain> {
  return {
    path: `/${qualified}/${m.name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (o) => toBuffer(encode(m.request, o)),
    requestDeserialize: (b) => decode(m.request, b),
    responseSerialize: (o) => toBuffer(encode(m.response, o)),
    responseDeserialize: (b) => decode(m.response, b),
  }
}

/** The grpc-js definition of a service under one of its names (clients use it too). */
export function serviceDefinition(service: ServiceName, qualified: string): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<Plain, Plain>> = {}
  for (const m of methodsOf(service)) def[m.name] = methodDefinition(qualified, m)
  return def
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest()
}

/** Constant-time check of the call's token (hashing first makes the lengths equal). */
function authorized(md: grpc.Metadata, tokenDigest: Buffer): boolean {
  const offered = [
    ...md.get('authorization').map((v) => String(v).replace(/^Bearer\s+/i, '')),
    ...md.get('x-api-token').map(String),
  ]
  return offered.some((t) => timingSafeEqual(digest(t), tokenDigest))
}

function checkServices(names: string[]): ServiceName[] {
  const out = new Set<ServiceName>()
  for (const n of names) {
    if (!isServiceName(n)) {
      const known = Object.keys(SERVICE_PACKAGES).join(', ')
      throw new Error(`control API service "${n}" is unknown (known: ${known})`)
    }
    out.add(n)
  }
  return [...out]
}

export async function startControlServer(
  opts: ControlServerOptions,
): Promise<ControlServer | null> {
  const services = checkServices(opts.services)
  if (services.length === 0) return null
  const target = parseListen(opts.listen)
  if (target.kind === 'tcp' && !target.loopback && !opts.token) {
    throw new Error(
      `control API refuses to listen on ${opts.listen} (not loopback) without API_TOKEN`,
    )
  }
  if (target.kind === 'unix') await clearStaleSocket(target.path)

  const { backend, log } = opts
  const tokenDigest = opts.token ? digest(opts.token) : null
  // Several nodes: every answer says which node gave it (response metadata `xgate-node`).
  const nodeMd = opts.node ? new grpc.Metadata() : null
  nodeMd?.set('xgate-node', opts.node!)
  const handle =
    (service: ServiceName, method: string) =>
    (call: grpc.ServerUnaryCall<Plain, Plain>, cb: grpc.sendUnaryData<Plain>) => {
      if (nodeMd) call.sendMetadata(nodeMd)
      if (tokenDigest && !authorized(call.metadata, tokenDigest)) {
        cb({ code: grpc.status.UNAUTHENTICATED, details: 'missing or wrong API token' })
        return
      }
      runMethod(backend, service, method, call.request).then(
        (res) => cb(null, res),
        (e: unknown) => {
          const { error, internal } = toControlError(e)
          if (internal) log?.warn('control call failed', { service, method, error: String(e) })
          cb({ code: error.grpcStatus, details: error.message })
        },
      )
    }

  const server = new grpc.Server()
  for (const service of services) {
    const impl: grpc.UntypedServiceImplementation = {}
    for (const m of methodsOf(service)) impl[m.name] = handle(service, m.name)
    for (const q of qualifiedNames(service)) server.addService(serviceDefinition(service, q), impl)
  }

  const creds = grpc.ServerCredentials.createInsecure()
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(bindAddress(target), creds, (err, p) => (err ? reject(err) : resolve(p)))
  }).catch((e: Error) => {
    server.forceShutdown()
    throw new Error(`control API cannot listen on ${opts.listen}: ${e.message}`)
  })

  const address = target.kind === 'unix' ? target.path : bindAddress({ ...target, port })
  log?.info('control API listening', { address, services })
  let stopped: Promise<void> | null = null
  return {
    address,
    port: target.kind === 'tcp' ? port : undefined,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), STOP_GRACE_MS)
        server.tryShutdown(() => {
          clearTimeout(timer)
          if (target.kind === 'unix') rmSync(target.path, { force: true })
          resolve()
        })
      })
      return stopped
    },
  }
}
