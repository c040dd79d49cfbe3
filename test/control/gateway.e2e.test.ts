// The control API against the running gateway: gRPC under both package names, counters fed by
// real proxied calls, HandlerService changes visible in the HTTP API and the proxy at once, the
// JSON mirror, /metrics, and RestartLogger during a logrotate.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import OpenAI from 'openai'
import { existsSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { typed, type Plain } from '../../src/control/protos'
import { GrpcStatus } from '../../src/control/errors'
import { generateKey } from '../../src/shared/ids'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { call, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway'
import { createLogger } from '../../src/shared/log'
import { codeOf, makeCaller } from './client'

let up: FakeUpstream
let gw: TestGateway
const logDir = tempDir()
const logFile = join(logDir, 'xgate.log')
const PACKAGES = ['xray.app', 'v2ray.core.app'] as const
const clients: Array<{ close(): void }> = []

const client = (pkg: (typeof PACKAGES)[number], service: 'StatsService' | 'LoggerService' | 'HandlerService') => {
  const sub = service === 'StatsService' ? 'stats' : service === 'LoggerService' ? 'log' : 'proxyman'
  const c = makeCaller(gw.control!.address, service, `${pkg}.${sub}.command.${service}`)
  clients.push(c)
  return c.call
}

beforeAll(async () => {
  up = await startFakeUpstream({ promptTokens: 30, completionTokens: 12 })
  gw = await startTestGateway(
    { API_LISTEN: '127.0.0.1:0', API_SERVICES: 'HandlerService,LoggerService,StatsService', FLUSH_INTERVAL_MS: '20' },
    { log: createLogger({ file: logFile, level: 'info' }) },
  )
})
afterAll(async () => {
  for (const c of clients) c.close()
  await gw.close()
  await up.stop()
})

const upstreamKey = (tag: string, level = 1) => ({
  outbound: { tag, proxy_settings: typed('xgate.UpstreamKey', { provider: up.url, secret: `sk-up-${tag}`, level }) },
})

describe('HandlerService on the live gateway', () => {
  test('AddOutbound, AddUserOperation, a proxied call with the new key, counters byte for byte', async () => {
    const handler = client('xray.app', 'HandlerService')
    const stats = client('v2ray.core.app', 'StatsService')
    await handler('AddOutbound', upstreamKey('pool-a'))
    const keys = await call(gw, 'GET', '/x-keys', { key: gw.rootKey })
    expect(keys.body.map((k: any) => k.Name), keys.text).toContain('pool-a')
    expect(keys.text).not.toContain('sk-up-pool-a')

    const key = generateKey()
    await handler('AlterInbound', {
      tag: 'openai',
      operation: typed('xray.app.proxyman.command.AddUserOperation', {
        user: { email: 'grpc-user@example.com', level: 1, account: typed('xgate.Account', { key, name: 'grpcuser' }) },
      }),
    })
    const user = await call(gw, 'GET', '/x-users/grpcuser', { key: gw.rootKey })
    expect(user.status, user.text).toBe(200)
    expect(user.body.Email).toBe('grpc-user@example.com')
    const listed = (await handler('GetInboundUsers', { tag: 'openai' })) as { users: Plain[] }
    expect(JSON.stringify(listed)).toContain('grpc-user@example.com')
    expect(JSON.stringify(listed)).not.toContain(key)
    expect(await handler('GetInboundUsersCount', { tag: 'anthropic' })).toEqual({ count: 1 })

    // Root funds it through the admin API, then the key works through the proxy at once.
    const fund = await call(gw, 'PUT', '/x-users/grpcuser', { key: gw.rootKey, body: { CreditGranted: 30 } })
    expect(fund.status, fund.text).toBe(200)
    const before = up.tally.requests
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    })
    const text = await res.text()
    expect(res.status, text).toBe(200)
    expect(up.tally.requests).toBe(before + 1)
    const sent = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })

    let q: { stat?: Array<{ name: string; value: number }> } = {}
    for (let i = 0; i < 50; i++) {
      q = (await stats('QueryStats', { pattern: 'user>>>grpcuser>>>' })) as typeof q
      if ((q.stat ?? []).length) break
      await Bun.sleep(20)
    }
    const byName = Object.fromEntries((q.stat ?? []).map((s) => [s.name, Number(s.value)]))
    expect(byName['user>>>grpcuser>>>traffic>>>uplink']).toBe(sent.length)
    expect(byName['user>>>grpcuser>>>traffic>>>downlink']).toBe(Buffer.byteLength(text))
    expect(byName['user>>>grpcuser>>>requests>>>total']).toBe(1)
    expect(byName['user>>>grpcuser>>>tokens>>>prompt']).toBe(30)
    expect(byName['user>>>grpcuser>>>tokens>>>completion']).toBe(12)
    // gpt-4o-mini: 30 × 0.15 + 12 × 0.6 USD per million = 11.7 µUSD = 11,700 nano
    expect(byName['user>>>grpcuser>>>cost>>>nanousd']).toBe(11_700)
    for (const name of Object.keys(byName)) expect(name.split('>>>')).toHaveLength(4)
    const outbound = (await stats('GetStats', { name: 'outbound>>>pool-a>>>requests>>>total' })) as any
    // pool-a is the only upstream key of this gateway, so it served the call.
    expect(Number(outbound.stat.value)).toBe(1)

    // RemoveUserOperation deletes it: the key stops at once and its counters go.
    await handler('AlterInbound', {
      tag: 'openai',
      operation: typed('xray.app.proxyman.command.RemoveUserOperation', { email: 'grpc-user@example.com' }),
    })
    const gone = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: sent,
    })
    expect(gone.status).toBe(401)
    expect((await call(gw, 'GET', '/x-users/grpcuser', { key: gw.rootKey })).status).toBe(404)
    expect(await codeOf(stats('GetStats', { name: 'user>>>grpcuser>>>requests>>>total' }))).toBe(GrpcStatus.NOT_FOUND)
    const logs = await call(gw, 'GET', '/dashboard/x-user-logs?size=100', { key: gw.rootKey })
    const actions = logs.body.logs.map((l: any) => l.action)
    expect(actions).toEqual(expect.arrayContaining(['add_key', 'add_user', 'delete_user']))

    await handler('RemoveOutbound', { tag: 'pool-a' })
    const after = await call(gw, 'GET', '/x-keys', { key: gw.rootKey })
    expect(after.body.map((k: any) => k.Name)).not.toContain('pool-a')
  })

  test('bad input changes nothing: malformed account, unknown inbound, unknown user', async () => {
    const handler = client('v2ray.core.app', 'HandlerService')
    const count = await gw.deps.accounts.repo.count()
    const bad = handler('AlterInbound', {
      tag: 'openai',
      operation: typed('xray.app.proxyman.command.AddUserOperation', {
        user: { email: 'x@example.com', account: typed('xgate.Account', { key: 'sk-short' }) },
      }),
    })
    expect(await codeOf(bad)).toBe(GrpcStatus.INVALID_ARGUMENT)
    expect(await codeOf(handler('GetInboundUsers', { tag: 'socks' }))).toBe(GrpcStatus.NOT_FOUND)
    const ghost = handler('AlterInbound', {
      tag: 'openai',
      operation: typed('xray.app.proxyman.command.RemoveUserOperation', { email: 'ghost@example.com' }),
    })
    expect(await codeOf(ghost)).toBe(GrpcStatus.NOT_FOUND)
    expect(await codeOf(handler('AddInbound', {}))).toBe(GrpcStatus.UNIMPLEMENTED)
    expect(await gw.deps.accounts.repo.count()).toBe(count)
  })
})

describe('JSON mirror, metrics and the logger', () => {
  test('/x-api mirrors StatsService for root only', async () => {
    const sys = await call(gw, 'POST', '/x-api/StatsService/GetSysStats', { key: gw.rootKey, body: {} })
    expect(sys.status, sys.text).toBe(200)
    expect(Number(sys.body.Sys)).toBeGreaterThan(0)
    const q = await call(gw, 'POST', '/x-api/xray.app.stats.command.StatsService/QueryStats', { key: gw.rootKey, body: { pattern: 'inbound>>>' } })
    expect(q.status, q.text).toBe(200)
    expect(q.body.stat.some((s: any) => s.name === 'inbound>>>openai>>>requests>>>total')).toBe(true)
    const anon = await call(gw, 'POST', '/x-api/StatsService/QueryStats', { body: {} })
    expect(anon.status).toBe(401)
    const unknown = await call(gw, 'POST', '/x-api/StatsService/NoSuch', { key: gw.rootKey, body: {} })
    expect(unknown.status, unknown.text).toBe(404)
    expect(unknown.body.error.code).toBe('not_found')
  })

  test('/metrics is Prometheus text with requests, tokens, cost, latency, key states, flush lag', async () => {
    const m = await call(gw, 'GET', '/metrics')
    expect(m.status).toBe(200)
    expect(m.headers.get('content-type')).toContain('text/plain')
    for (const line of m.text.trim().split('\n')) {
      expect(line, line).toMatch(/^(# (HELP|TYPE) [a-z_:][a-z0-9_:]* .+|[a-z_:][a-z0-9_:]*(\{[^}]*\})? [-+0-9.eInfNa]+)$/)
    }
    for (const family of ['xgate_requests_total', 'xgate_tokens_total', 'xgate_cost_nanousd_total', 'xgate_upstream_latency_seconds_bucket', 'xgate_upstream_key_state', 'xgate_flush_lag_seconds', 'xgate_requests_in_flight']) {
      expect(m.text).toContain(family)
    }
  })

  test('logrotate: rename, RestartLogger, both files complete', async () => {
    const logger = client('xray.app', 'LoggerService')
    for (let i = 0; i < 10; i++) await call(gw, 'GET', '/healthz')
    renameSync(logFile, logFile + '.1')
    for (let i = 0; i < 5; i++) await call(gw, 'GET', '/healthz')
    expect(await logger('RestartLogger', {})).toEqual({})
    for (let i = 0; i < 7; i++) await call(gw, 'GET', '/healthz')
    gw.deps.log.flush()
    expect(existsSync(logFile)).toBe(true)
    const count = (f: string) => readFileSync(f, 'utf8').trim().split('\n').filter((l) => l.includes('"path":"/healthz"')).length
    expect(count(logFile + '.1')).toBeGreaterThanOrEqual(15)
    expect(count(logFile)).toBe(7)
  })
})
