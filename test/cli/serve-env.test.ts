// `xgate serve` restarts itself once (same PID) with two variables Bun and JavaScriptCore read only
// at start: the fetch limit lifted, and the heap sized for a 2 GiB host (on a larger one) so RSS
// stays under 150 MB under load. Values the operator set are kept.
import { describe, expect, test } from 'bun:test'
import { readFileSync, rmSync } from 'node:fs'
import { totalmem } from 'node:os'
import { HEAP_SIZED_FOR_BYTES, UPSTREAM_FETCH_LIMIT, serveEnv } from '../../src/config'
import { tempDir } from '../helpers/gateway'
import { startServe } from '../helpers/process'

const GIB = 1024 ** 3

describe('serveEnv', () => {
  test('a large host gets both variables, the rest of the environment kept', () => {
    const env = serveEnv(24 * GIB, { PATH: '/bin', TZ: 'UTC' })
    expect(env).toEqual({
      PATH: '/bin',
      TZ: 'UTC',
      BUN_CONFIG_MAX_HTTP_REQUESTS: String(UPSTREAM_FETCH_LIMIT),
      BUN_JSC_forceRAMSize: String(HEAP_SIZED_FOR_BYTES),
    })
  })

  test('a host of 2 GiB or less keeps its own heap sizing', () => {
    expect(serveEnv(2 * GIB, {})).toEqual({ BUN_CONFIG_MAX_HTTP_REQUESTS: String(UPSTREAM_FETCH_LIMIT) })
    expect(serveEnv(1 * GIB, {})).toEqual({ BUN_CONFIG_MAX_HTTP_REQUESTS: String(UPSTREAM_FETCH_LIMIT) })
  })

  test("the operator's values win, and with both set there is no restart", () => {
    expect(serveEnv(24 * GIB, { BUN_JSC_forceRAMSize: '4294967296' })).toEqual({
      BUN_JSC_forceRAMSize: '4294967296',
      BUN_CONFIG_MAX_HTTP_REQUESTS: String(UPSTREAM_FETCH_LIMIT),
    })
    expect(serveEnv(24 * GIB, { BUN_CONFIG_MAX_HTTP_REQUESTS: '512', BUN_JSC_forceRAMSize: '1' })).toBeNull()
    expect(serveEnv(1 * GIB, { BUN_CONFIG_MAX_HTTP_REQUESTS: '512' })).toBeNull()
  })
})

describe('xgate serve', () => {
  test('runs under that environment, same PID', async () => {
    const dir = tempDir()
    const s = await startServe({ DATA_DIR: dir })
    try {
      const environ = readFileSync(`/proc/${s.proc.pid}/environ`, 'utf8').split('\0')
      expect(environ).toContain(`BUN_CONFIG_MAX_HTTP_REQUESTS=${UPSTREAM_FETCH_LIMIT}`)
      if (totalmem() > HEAP_SIZED_FOR_BYTES)
        expect(environ).toContain(`BUN_JSC_forceRAMSize=${HEAP_SIZED_FOR_BYTES}`)
      else expect(environ.some((v) => v.startsWith('BUN_JSC_forceRAMSize='))).toBe(false)
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200)
    } finally {
      s.proc.kill('SIGTERM')
      await s.proc.exited
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
