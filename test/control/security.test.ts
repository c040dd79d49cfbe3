// Who may reach the control listener: the token when one is set, loopback or a unix socket
// otherwise; bad listen settings stop start-up with a clear message.

import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServiceError } from '@grpc/grpc-js'
import { GrpcStatus } from '../../src/control/errors'
import { startControlServer, type ControlServer } from '../../src/control/grpc'
import { isLoopback, parseListen } from '../../src/control/listen'
import { codeOf, makeCaller } from './client'
import { makeFakeBackend } from './fake-backend'

const STATS = 'xray.app.stats.command.StatsService'
const LEGACY_STATS = 'v2ray.core.app.stats.command.StatsService'
const TOKEN = 'control-token-for-tests'

describe('with a token', () => {
  const backend = makeFakeBackend()
  const name = 'user>>>erin>>>requests>>>total'
  let srv: ControlServer
  beforeAll(async () => {
    backend.counters.add(name, 7)
    srv = (await startControlServer({
      listen: '127.0.0.1:0',
      services: ['StatsService', 'HandlerService'],
      token: TOKEN,
      backend,
    }))!
  })
  afterAll(() => srv.stop())

  for (const qualified of [STATS, LEGACY_STATS]) {
    test(`${qualified}: no token, a wrong one → UNAUTHENTICATED, nothing reset`, async () => {
      const c = makeCaller(srv.address, 'StatsService', qualified)
      const req = { name, reset: true }
      expect(await codeOf(c.call('GetStats', req))).toBe(GrpcStatus.UNAUTHENTICATED)
      const wrong = { authorization: `Bearer ${TOKEN}x` }
      expect(await codeOf(c.call('GetStats', req, wrong))).toBe(GrpcStatus.UNAUTHENTICATED)
      expect(await codeOf(c.call('GetStats', req, { 'x-api-token': 'nope' }))).toBe(
        GrpcStatus.UNAUTHENTICATED,
      )
      expect(backend.counters.get(name)).toBe(7)
      c.close()
    })
  }

  test('Bearer and x-api-token are both accepted', async () => {
    const c = makeCaller(srv.address, 'StatsService', STATS)
    const bearer = await c.call('GetStats', { name }, { authorization: `Bearer ${TOKEN}` })
    expect(bearer.stat).toEqual({ name, value: 7 })
    const header = await c.call('GetStats', { name }, { 'x-api-token': TOKEN })
    expect(header.stat).toEqual({ name, value: 7 })
    c.close()
  })

  test('HandlerService is guarded too: nothing reaches the backend', async () => {
    const c = makeCaller(srv.address, 'HandlerService', 'xray.app.proxyman.command.HandlerService')
    expect(await codeOf(c.call('RemoveOutbound', { tag: 'k' }))).toBe(GrpcStatus.UNAUTHENTICATED)
    expect(backend.calls).toEqual([])
    c.close()
  })
})

describe('errors', () => {
  test('a backend bug answers INTERNAL with no detail and is logged', async () => {
    const backend = makeFakeBackend()
    backend.restartLogger = () => {
      throw new Error('EACCES /var/log/xgate/secret-path.log')
    }
    const warned: unknown[] = []
    const log = { info: () => {}, warn: (_: string, f?: Record<string, unknown>) => warned.push(f) }
    const srv = (await startControlServer({
      listen: '127.0.0.1:0',
      services: ['LoggerService'],
      backend,
      log,
    }))!
    const c = makeCaller(srv.address, 'LoggerService', 'v2ray.core.app.log.command.LoggerService')
    const err = await c.call('RestartLogger').catch((e: ServiceError) => e)
    expect([(err as ServiceError).code, (err as ServiceError).details]).toEqual([
      GrpcStatus.INTERNAL,
      'internal error',
    ])
    expect(JSON.stringify(warned)).toContain('EACCES')
    c.close()
    await srv.stop()
  })
})

describe('listen settings', () => {
  test('a non-loopback TCP listen without a token is refused', async () => {
    const backend = makeFakeBackend()
    for (const listen of ['0.0.0.0:10085', ':10085', '192.0.2.10:10085', '[::]:10085']) {
      const start = startControlServer({ listen, services: ['StatsService'], backend })
      await expect(start).rejects.toThrow(/not loopback.*API_TOKEN/)
    }
  })

  test('loopback forms are told from the rest', () => {
    for (const h of ['127.0.0.1', '127.9.8.7', '::1', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopback(h)).toBe(true)
    }
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '127.0.0.1.nip.io']) {
      expect(isLoopback(h)).toBe(false)
    }
    expect(parseListen('[::1]:9')).toEqual({ kind: 'tcp', host: '::1', port: 9, loopback: true })
  })

  test('malformed listen values and unknown services stop start-up', async () => {
    const backend = makeFakeBackend()
    for (const listen of ['127.0.0.1', '127.0.0.1:99999', 'unix.sock', '']) {
      const start = startControlServer({ listen, services: ['StatsService'], backend })
      await expect(start).rejects.toThrow(/control API listen/)
    }
    const bad = startControlServer({ listen: '127.0.0.1:0', services: ['RoutingService'], backend })
    await expect(bad).rejects.toThrow(/"RoutingService" is unknown/)
  })

  test('an empty services list starts nothing', async () => {
    const none = await startControlServer({
      listen: '0.0.0.0:10085',
      services: [],
      backend: makeFakeBackend(),
    })
    expect(none).toBeNull()
  })
})

describe('unix socket', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xgate-ctl-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('serves on the socket, refuses a second server on it, removes it on stop', async () => {
    const path = join(dir, 'api.sock')
    const backend = makeFakeBackend()
    backend.counters.add('inbound>>>openai>>>traffic>>>downlink', 99)
    const srv = (await startControlServer({ listen: path, services: ['StatsService'], backend }))!
    expect(srv.address).toBe(path)
    expect(srv.port).toBeUndefined()
    const c = makeCaller(path, 'StatsService', LEGACY_STATS)
    const r = await c.call('QueryStats', { pattern: 'downlink' })
    expect(r.stat).toEqual([{ name: 'inbound>>>openai>>>traffic>>>downlink', value: 99 }])
    c.close()

    const second = startControlServer({ listen: path, services: ['StatsService'], backend })
    await expect(second).rejects.toThrow(/in use/)

    await srv.stop()
    expect(existsSync(path)).toBe(false)
  })

  test('a stale socket left by a killed process is replaced', async () => {
    const path = join(dir, 'stale.sock')
    const listen = `listen(${JSON.stringify(path)}, () => console.log('up'))`
    const script = `require('node:net').createServer().${listen}`
    const child = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe' })
    const reader = child.stdout.getReader()
    await reader.read()
    child.kill('SIGKILL')
    await child.exited
    expect(existsSync(path)).toBe(true)

    const backend = makeFakeBackend()
    const srv = (await startControlServer({ listen: path, services: ['LoggerService'], backend }))!
    const c = makeCaller(path, 'LoggerService', 'xray.app.log.command.LoggerService')
    await c.call('RestartLogger')
    expect(backend.loggerRestarts).toBe(1)
    c.close()
    await srv.stop()
  })

  test('a path that is a regular file is not clobbered', async () => {
    const path = join(dir, 'not-a-socket')
    writeFileSync(path, 'keep me')
    const start = startControlServer({
      listen: path,
      services: ['StatsService'],
      backend: makeFakeBackend(),
    })
    await expect(start).rejects.toThrow(/not a socket/)
    expect(existsSync(path)).toBe(true)
  })
})
