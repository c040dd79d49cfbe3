// Happy path over the wire: every RPC of the three services, called by a grpc-js client under
// both the xray.app.* and the legacy v2ray.core.app.* names, against a fake backend.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { GrpcStatus } from '../../src/control/errors'
import { startControlServer, type ControlServer } from '../../src/control/grpc'
import { decode, lookupType, qualifiedNames, typed, type Plain } from '../../src/control/protos'
import { codeOf, makeCaller, type Caller } from './client'
import { makeFakeBackend, type FakeBackend } from './fake-backend'

const KEY = 'sk-Xvs' + 'a1B2c3D4e5'.repeat(4) + 'XyZ09'

for (const legacy of [false, true]) {
  const pkg = legacy ? 'v2ray.core' : 'xray'
  describe(`under ${pkg}.app.*`, () => {
    let backend: FakeBackend
    let srv: ControlServer
    const closers: (() => void)[] = []
    let stats: Caller, logger: Caller, handler: Caller

    beforeAll(async () => {
      backend = makeFakeBackend()
      const started = await startControlServer({
        listen: '127.0.0.1:0',
        services: ['HandlerService', 'LoggerService', 'StatsService'],
        backend,
      })
      srv = started!
      const caller = (s: 'StatsService' | 'LoggerService' | 'HandlerService') => {
        const c = makeCaller(srv.address, s, qualifiedNames(s)[legacy ? 1 : 0])
        closers.push(c.close)
        return c.call
      }
      stats = caller('StatsService')
      logger = caller('LoggerService')
      handler = caller('HandlerService')
    })
    afterAll(async () => {
      for (const c of closers) c()
      await srv.stop()
    })

    test('listens on the loopback port it reports', () => {
      expect(srv.port).toBeGreaterThan(0)
      expect(srv.address).toBe(`127.0.0.1:${srv.port}`)
    })

    test('GetStats reads, resets, and answers NOT_FOUND for an unknown name', async () => {
      const name = 'user>>>alice>>>traffic>>>uplink'
      backend.counters.add(name, 1200)
      expect(await stats('GetStats', { name })).toEqual({ stat: { name, value: 1200 } })
      expect(await stats('GetStats', { name, reset: true })).toEqual({
        stat: { name, value: 1200 },
      })
      expect(backend.counters.get(name)).toBe(0)
      const code = await codeOf(stats('GetStats', { name: 'user>>>nobody>>>traffic>>>uplink' }))
      expect(code).toBe(GrpcStatus.NOT_FOUND)
    })

    test('QueryStats by substring, "" for all, v2fly patterns and regexp', async () => {
      backend.counters.add('model>>>gpt-4o>>>tokens>>>prompt', 10)
      backend.counters.add('model>>>gpt-4o>>>tokens>>>completion', 20)
      backend.counters.add('inbound>>>openai>>>requests>>>total', 3)
      const names = (r: Plain) => (r.stat as { name: string }[]).map((s) => s.name)
      const all = await stats('QueryStats', { pattern: '' })
      expect(names(all)).toHaveLength(backend.counters.size())
      expect(names(await stats('QueryStats', { pattern: 'tokens>>>' }))).toEqual([
        'model>>>gpt-4o>>>tokens>>>completion',
        'model>>>gpt-4o>>>tokens>>>prompt',
      ])
      const multi = await stats('QueryStats', { patterns: ['>>>prompt', 'inbound>>>'] })
      expect(names(multi)).toEqual([
        'inbound>>>openai>>>requests>>>total',
        'model>>>gpt-4o>>>tokens>>>prompt',
      ])
      const re = await stats('QueryStats', {
        patterns: ['^model>>>.*>>>completion$'],
        regexp: true,
      })
      expect(re.stat).toEqual([{ name: 'model>>>gpt-4o>>>tokens>>>completion', value: 20 }])
      const bad = await codeOf(stats('QueryStats', { patterns: ['('], regexp: true }))
      expect(bad).toBe(GrpcStatus.INVALID_ARGUMENT)
      const reset = await stats('QueryStats', { pattern: 'model>>>gpt-4o', reset: true })
      expect((reset.stat as { value: number }[]).map((s) => s.value)).toEqual([20, 10])
      expect(backend.counters.get('model>>>gpt-4o>>>tokens>>>prompt')).toBe(0)
    })

    test('GetSysStats maps uptime, RSS, heap and calls in flight', async () => {
      const s = await stats('GetSysStats')
      expect(s).toMatchObject({ Uptime: 42, Sys: 70_000_000, Alloc: 12_345_678, NumGoroutine: 3 })
    })

    test('online: GetStatsOnline, GetStatsOnlineIpList, GetAllOnlineUsers', async () => {
      const name = 'user>>>carol>>>online'
      expect(await codeOf(stats('GetStatsOnline', { name }))).toBe(GrpcStatus.NOT_FOUND)
      const leaveA = backend.online.enter('carol', '203.0.113.7')
      backend.online.enter('carol', '2001:db8::1')
      expect(await stats('GetStatsOnline', { name })).toEqual({ stat: { name, value: 2 } })
      const list = await stats('GetStatsOnlineIpList', { name })
      const nowS = Math.floor(backend.clock.now() / 1000)
      expect(list).toEqual({ name, ips: { '203.0.113.7': nowS, '2001:db8::1': nowS } })
      expect((await stats('GetAllOnlineUsers')).users).toEqual([name])
      leaveA()
      expect(await stats('GetStatsOnline', { name })).toEqual({ stat: { name, value: 1 } })
    })

    test('RestartLogger reaches the backend', async () => {
      const before = backend.loggerRestarts
      expect(await logger('RestartLogger')).toEqual({})
      expect(backend.loggerRestarts).toBe(before + 1)
    })

    test('AddInbound, RemoveInbound and AlterOutbound answer UNIMPLEMENTED', async () => {
      expect(await codeOf(handler('AddInbound', { inbound: { tag: 'x' } }))).toBe(
        GrpcStatus.UNIMPLEMENTED,
      )
      expect(await codeOf(handler('RemoveInbound', { tag: 'openai' }))).toBe(
        GrpcStatus.UNIMPLEMENTED,
      )
      expect(await codeOf(handler('AlterOutbound', { tag: 'k1' }))).toBe(GrpcStatus.UNIMPLEMENTED)
    })

    test('ListInbounds names the API surfaces', async () => {
      const r = await handler('ListInbounds', { isOnlyTags: true })
      expect((r.inbounds as { tag: string }[]).map((i) => i.tag)).toEqual(['openai', 'anthropic'])
    })

    test('users: add, list without keys, count, remove', async () => {
      const account = typed('xgate.Account', { key: KEY, name: 'dave-shop', credit_nanousd: 5e9 })
      const op = {
        ...typed('xray.app.proxyman.command.AddUserOperation', {
          user: { email: 'dave@example.com', level: 2, account },
        }),
        // Legacy clients name the operation by V2Ray's package; both are accepted.
        type: `${pkg}.app.proxyman.command.AddUserOperation`,
      }
      expect(await handler('AlterInbound', { tag: 'openai', operation: op })).toEqual({})
      expect(backend.users.get('dave@example.com')).toEqual({
        email: 'dave@example.com',
        level: 2,
        accountKey: KEY,
        name: 'dave-shop',
        creditNano: 5e9,
      })

      const listed = await handler('GetInboundUsers', { tag: 'openai' })
      const users = listed.users as { email: string; level: number; account: Plain }[]
      expect(users.map((u) => [u.email, u.level])).toEqual([['dave@example.com', 2]])
      const acc = users[0]!.account as { type: string; value: Uint8Array }
      expect(acc.type).toBe('xgate.Account')
      expect(decode(lookupType('xgate.Account'), acc.value)).toMatchObject({
        key: '',
        name: 'dave-shop',
      })
      expect(Buffer.from(acc.value).includes(KEY)).toBe(false)

      const one = await handler('GetInboundUsers', { tag: 'openai', email: 'dave@example.com' })
      expect((one.users as unknown[]).length).toBe(1)
      expect(await handler('GetInboundUsersCount', { tag: 'anthropic' })).toEqual({ count: 1 })

      const rm = typed('xray.app.proxyman.command.RemoveUserOperation', {
        email: 'dave@example.com',
      })
      expect(await handler('AlterInbound', { tag: 'openai', operation: rm })).toEqual({})
      expect(backend.users.size).toBe(0)
      const again = await codeOf(handler('AlterInbound', { tag: 'openai', operation: rm }))
      expect(again).toBe(GrpcStatus.NOT_FOUND)
    })

    test('outbounds: add, list with the secret masked, remove', async () => {
      const settings = typed('xgate.UpstreamKey', {
        provider: 'https://api.openai.com',
        secret: 'sk-proj-verysecret1234',
        level: 0,
        type: 'openai',
      })
      const outbound = { tag: 'oa-main', proxy_settings: settings }
      expect(await handler('AddOutbound', { outbound })).toEqual({})
      expect(backend.keys.get('oa-main')).toEqual({
        tag: 'oa-main',
        provider: 'https://api.openai.com',
        secret: 'sk-proj-verysecret1234',
        level: 0,
        type: 'openai',
      })
      const dup = await codeOf(handler('AddOutbound', { outbound }))
      expect(dup).toBe(GrpcStatus.ALREADY_EXISTS)

      const listed = (await handler('ListOutbounds')).outbounds as Plain[]
      expect(listed.map((o) => o.tag)).toEqual(['oa-main'])
      const ps = listed[0]!.proxy_settings as { type: string; value: Uint8Array }
      expect(ps.type).toBe('xgate.UpstreamKey')
      const key = decode(lookupType('xgate.UpstreamKey'), ps.value)
      expect(key).toMatchObject({ provider: 'https://api.openai.com', secret: '***1234', level: 0 })

      expect(await handler('RemoveOutbound', { tag: 'oa-main' })).toEqual({})
      expect(backend.keys.size).toBe(0)
      expect(await codeOf(handler('RemoveOutbound', { tag: 'oa-main' }))).toBe(GrpcStatus.NOT_FOUND)
    })
  })
}
