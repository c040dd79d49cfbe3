// HandlerService's error paths over gRPC: bad payloads answer INVALID_ARGUMENT (or NOT_FOUND)
// with a clear message and never reach the backend; Xray VLESS/VMess accounts carry the key.

import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'bun:test'
import protobuf from 'protobufjs'
import type { ServiceError } from '@grpc/grpc-js'
import { GrpcStatus } from '../../src/control/errors'
import { startControlServer, type ControlServer } from '../../src/control/grpc'
import { typed, type Plain } from '../../src/control/protos'
import { makeCaller, type Caller } from './client'
import { makeFakeBackend, type FakeBackend } from './fake-backend'

const KEY = 'sk-Xvs' + 'Q'.repeat(40) + '12345'
const ADD = 'xray.app.proxyman.command.AddUserOperation'

let backend: FakeBackend
let srv: ControlServer
let handler: Caller
let close: () => void

beforeAll(async () => {
  backend = makeFakeBackend()
  srv = (await startControlServer({
    listen: '127.0.0.1:0',
    services: ['HandlerService'],
    backend,
  }))!
  const c = makeCaller(srv.address, 'HandlerService', 'xray.app.proxyman.command.HandlerService')
  handler = c.call
  close = c.close
})
afterAll(async () => {
  close()
  await srv.stop()
})
beforeEach(() => {
  backend.calls.length = 0
  backend.users.clear()
})

/** Rejected call's code and message. */
async function failure(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p
  } catch (e) {
    const err = e as ServiceError
    return { code: err.code, details: err.details }
  }
  throw new Error('call succeeded, an error was expected')
}

function addUser(user: Plain, tag = 'openai') {
  return handler('AlterInbound', { tag, operation: typed(ADD, { user }) })
}

/** A VLESS account as Xray encodes it: id (1), flow (2). We only declare field 1. */
function vlessAccount(id: string, type = 'xray.proxy.vless.Account'): Plain {
  const value = protobuf.Writer.create().uint32(10).string(id).uint32(18).string('xtls-rprx-vision')
  return { type, value: value.finish() }
}

describe('AddUserOperation account payloads', () => {
  test('a VLESS account whose id is an xgate key carries that key', async () => {
    await addUser({ email: 'v@example.com', account: vlessAccount(KEY) })
    expect(backend.users.get('v@example.com')).toEqual({ email: 'v@example.com', accountKey: KEY })
  })

  test('a legacy VMess account type is read the same way', async () => {
    await addUser({
      email: 'm@example.com',
      account: vlessAccount(KEY, 'v2ray.core.proxy.vmess.Account'),
    })
    expect(backend.users.get('m@example.com')?.accountKey).toBe(KEY)
  })

  test('no account: the gateway picks the key; level 0 means inherit', async () => {
    await addUser({ email: 'n@example.com', level: 0 })
    expect(backend.users.get('n@example.com')).toEqual({ email: 'n@example.com' })
  })

  const bad: [string, Plain, RegExp][] = [
    [
      'truncated xgate.Account bytes',
      { type: 'xgate.Account', value: new Uint8Array([0x0a, 0xff]) },
      /malformed account/,
    ],
    [
      'an xgate.Account key in the wrong format',
      typed('xgate.Account', { key: 'sk-short' }),
      /sk-Xvs followed by 45/,
    ],
    [
      'a VLESS id that is a UUID, not a key',
      vlessAccount('b831381d-6324-4d53-ad4f-8cda48b30811'),
      /id must be an xgate key/,
    ],
    [
      'an account type xgate does not know',
      { type: 'xray.proxy.trojan.Account', value: new Uint8Array() },
      /unsupported account type/,
    ],
  ]
  for (const [what, account, message] of bad) {
    test(`${what} → INVALID_ARGUMENT, backend not called`, async () => {
      const f = await failure(addUser({ email: 'x@example.com', account }))
      expect(f.code).toBe(GrpcStatus.INVALID_ARGUMENT)
      expect(f.details).toMatch(message)
      expect(backend.calls).toEqual([])
    })
  }
})

describe('AlterInbound checks before the backend', () => {
  test('missing email → INVALID_ARGUMENT', async () => {
    const f = await failure(addUser({ level: 1 }))
    expect(f).toEqual({ code: GrpcStatus.INVALID_ARGUMENT, details: 'user.email is required' })
    expect(backend.calls).toEqual([])
  })

  test('unknown inbound tag → NOT_FOUND', async () => {
    const f = await failure(addUser({ email: 'a@example.com' }, 'vmess-in'))
    expect(f.code).toBe(GrpcStatus.NOT_FOUND)
    expect(backend.calls).toEqual([])
  })

  test('unknown or missing operation → INVALID_ARGUMENT', async () => {
    const other = typed('xray.app.proxyman.command.AddInboundRequest', {})
    expect((await failure(handler('AlterInbound', { tag: 'openai', operation: other }))).code).toBe(
      GrpcStatus.INVALID_ARGUMENT,
    )
    expect((await failure(handler('AlterInbound', { tag: 'openai' }))).code).toBe(
      GrpcStatus.INVALID_ARGUMENT,
    )
    expect(backend.calls).toEqual([])
  })

  test('a taken email → ALREADY_EXISTS from the backend', async () => {
    await addUser({ email: 'dup@example.com' })
    expect((await failure(addUser({ email: 'dup@example.com' }))).code).toBe(
      GrpcStatus.ALREADY_EXISTS,
    )
  })

  test('GetInboundUsers for an unknown email → NOT_FOUND', async () => {
    const f = await failure(
      handler('GetInboundUsers', { tag: 'openai', email: 'ghost@example.com' }),
    )
    expect(f.code).toBe(GrpcStatus.NOT_FOUND)
  })
})

describe('AddOutbound payloads', () => {
  const settings = (o: Plain) =>
    typed('xgate.UpstreamKey', { provider: 'https://api.anthropic.com', secret: 's3cret', ...o })

  test('unset level and weight stay unset (the gateway defaults them to 1)', async () => {
    await handler('AddOutbound', { outbound: { tag: 'an-1', proxy_settings: settings({}) } })
    expect(backend.keys.get('an-1')).toEqual({
      tag: 'an-1',
      provider: 'https://api.anthropic.com',
      secret: 's3cret',
    })
  })

  const bad: [string, Plain, RegExp][] = [
    ['no tag', { proxy_settings: settings({}) }, /tag/],
    ['no proxy_settings', { tag: 'k' }, /proxy_settings/],
    [
      'a foreign proxy_settings type',
      { tag: 'k', proxy_settings: { type: 'xray.proxy.freedom.Config', value: new Uint8Array() } },
      /unsupported proxy_settings/,
    ],
    [
      'a provider that is not a URL',
      { tag: 'k', proxy_settings: settings({ provider: 'api.openai.com' }) },
      /provider/,
    ],
    ['an empty secret', { tag: 'k', proxy_settings: settings({ secret: '' }) }, /secret/],
    ['level 11', { tag: 'k', proxy_settings: settings({ level: 11 }) }, /level/],
    ['type "azure"', { tag: 'k', proxy_settings: settings({ type: 'azure' }) }, /type/],
  ]
  for (const [what, outbound, message] of bad) {
    test(`${what} → INVALID_ARGUMENT, backend not called`, async () => {
      const f = await failure(handler('AddOutbound', { outbound }))
      expect(f.code).toBe(GrpcStatus.INVALID_ARGUMENT)
      expect(f.details).toMatch(message)
      expect(backend.calls).toEqual([])
    })
  }
})
