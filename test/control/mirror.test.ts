// The JSON mirror runs the same implementations as gRPC: same answers, same errors, and a
// request checked against the message type before anything runs.

import { describe, expect, test } from 'bun:test'
import { ControlError, GrpcStatus } from '../../src/control/errors'
import { callControl } from '../../src/control/mirror'
import {
  encode,
  lookupType,
  methodsOf,
  SERVICE_PACKAGES,
  type ServiceName,
} from '../../src/control/protos'
import { SERVICE_IMPLS } from '../../src/control/services'
import { AppError } from '../../src/shared/errors'
import { makeFakeBackend } from './fake-backend'

async function failure(p: Promise<unknown>): Promise<ControlError> {
  try {
    await p
  } catch (e) {
    if (e instanceof ControlError) return e
    throw e
  }
  throw new Error('call succeeded, an error was expected')
}

describe('callControl', () => {
  test('every method in the protos has exactly one implementation, and no extra', () => {
    for (const s of Object.keys(SERVICE_PACKAGES) as ServiceName[]) {
      const declared = methodsOf(s)
        .map((m) => m.name)
        .sort()
      expect(Object.keys(SERVICE_IMPLS[s]).sort()).toEqual(declared)
    }
  })

  test('QueryStats and GetSysStats answer JSON with proto field names', async () => {
    const b = makeFakeBackend()
    b.counters.add('user>>>ann>>>cost>>>nanousd', 1_500_000_000)
    const q = await callControl(b, 'StatsService', 'QueryStats', { pattern: 'ann', reset: true })
    expect(q).toEqual({ stat: [{ name: 'user>>>ann>>>cost>>>nanousd', value: 1_500_000_000 }] })
    expect(b.counters.get('user>>>ann>>>cost>>>nanousd')).toBe(0)
    const sys = await callControl(b, 'v2ray.core.app.stats.command.StatsService', 'GetSysStats', {})
    expect(sys).toMatchObject({ NumGoroutine: 3, Uptime: 42, Sys: 70_000_000 })
    expect(JSON.parse(JSON.stringify(sys))).toEqual(sys)
  })

  test('typed payloads travel as base64, in and out', async () => {
    const b = makeFakeBackend()
    const ps = encode(lookupType('xgate.UpstreamKey'), {
      provider: 'https://api.openai.com',
      secret: 'sk-abcdefgh5678',
    })
    const outbound = {
      tag: 'k1',
      proxy_settings: { type: 'xgate.UpstreamKey', value: Buffer.from(ps).toString('base64') },
    }
    expect(await callControl(b, 'HandlerService', 'AddOutbound', { outbound })).toEqual({})
    expect(b.keys.get('k1')?.secret).toBe('sk-abcdefgh5678')
    const list = await callControl(b, 'HandlerService', 'ListOutbounds', undefined)
    const value = (list.outbounds as { proxy_settings: { value: string } }[])[0]!.proxy_settings
      .value
    expect(typeof value).toBe('string')
    expect(Buffer.from(value, 'base64').toString('latin1')).toContain('***5678')
    expect(JSON.stringify(list)).not.toContain('abcdefgh')
  })

  test('the same errors as gRPC', async () => {
    const b = makeFakeBackend()
    const nf = await failure(callControl(b, 'StatsService', 'GetStats', { name: 'x' }))
    expect([nf.grpcStatus, nf.httpStatus]).toEqual([GrpcStatus.NOT_FOUND, 404])
    const un = await failure(callControl(b, 'HandlerService', 'AddInbound', {}))
    expect([un.grpcStatus, un.httpStatus]).toEqual([GrpcStatus.UNIMPLEMENTED, 501])
  })

  test('unknown services and methods are UNIMPLEMENTED', async () => {
    const b = makeFakeBackend()
    for (const [s, m] of [
      ['RoutingService', 'AddRule'],
      ['StatsService', 'GetUsersStats'],
      ['StatsService', 'constructor'],
    ]) {
      const e = await failure(callControl(b, s!, m!, {}))
      expect(e.grpcStatus).toBe(GrpcStatus.UNIMPLEMENTED)
    }
  })

  test('a body that is not the message → INVALID_ARGUMENT naming the field', async () => {
    const b = makeFakeBackend()
    b.counters.add('a>>>b>>>c>>>d', 1)
    const wrongType = await failure(
      callControl(b, 'StatsService', 'QueryStats', { pattern: 5, reset: true }),
    )
    expect(wrongType.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(wrongType.message).toMatch(/pattern: string expected/)
    const notObject = await failure(callControl(b, 'StatsService', 'QueryStats', ['x']))
    expect(notObject.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT)
    const badOp = await failure(
      callControl(b, 'HandlerService', 'AlterInbound', { tag: 'openai', operation: 'nope' }),
    )
    expect(badOp.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(b.counters.get('a>>>b>>>c>>>d')).toBe(1)
    expect(b.calls).toEqual([])
  })

  test('an AppError keeps its meaning; a bug becomes INTERNAL without detail', async () => {
    const b = makeFakeBackend()
    b.handler.removeOutbound = () => {
      throw new AppError('forbidden', 'key k1 is pinned')
    }
    const denied = await failure(callControl(b, 'HandlerService', 'RemoveOutbound', { tag: 'k1' }))
    expect([denied.grpcStatus, denied.message]).toEqual([
      GrpcStatus.PERMISSION_DENIED,
      'key k1 is pinned',
    ])

    b.restartLogger = () => {
      throw new Error('EACCES /var/log/xgate.log')
    }
    const seen: unknown[] = []
    const bug = await failure(
      callControl(b, 'LoggerService', 'RestartLogger', {}, (e) => seen.push(e)),
    )
    expect([bug.grpcStatus, bug.message]).toEqual([GrpcStatus.INTERNAL, 'internal error'])
    expect(String(seen[0])).toContain('EACCES')
  })
})
