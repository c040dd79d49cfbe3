// Test helpers: a real gateway on 127.0.0.1 port 0 with a temporary DATA_DIR, and an in-memory
// app for route tests through app.handle(). Every helper returns a stop/close the test must call.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, type Config } from '../../src/config'
import type { DepsOverrides } from '../../src/deps'
import { generateKey } from '../../src/shared/ids'
import { createMemoryLogger } from '../../src/shared/log'
import { startGateway, type Gateway } from '../../src/server'
import { databaseFor } from './engine'

export type TestGateway = Gateway & { rootKey: string; dataDir: string; logLines: Array<Record<string, unknown>>; close(): Promise<void> }

export function tempDir(prefix = 'xgate-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** The config with its DATA_DIR's database on PostgreSQL runs (test/helpers/engine.ts). */
export async function withTestDatabase(config: Config): Promise<Config> {
  const url = config.DATABASE_URL ? undefined : await databaseFor(config.DATA_DIR)
  return url ? { ...config, DATABASE_URL: url } : config
}

/** Config for tests: port 0 on loopback, a fresh DATA_DIR, a known root key. */
export function testConfig(env: Record<string, string> = {}, dataDir = tempDir()): { config: Config; rootKey: string } {
  const rootKey = generateKey()
  const config = loadConfig({}, {
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    TZ: 'UTC',
    INIT_USERS: `root::root@example.com::${rootKey}`,
    FLUSH_INTERVAL_MS: '50',
    SHUTDOWN_GRACE_MS: '2000',
    ...env,
  })
  return { config, rootKey }
}

/** Starts a gateway; `close()` stops it and removes its DATA_DIR. */
export async function startTestGateway(env: Record<string, string> = {}, overrides: DepsOverrides = {}): Promise<TestGateway> {
  const made = testConfig(env)
  const { rootKey } = made
  const config = await withTestDatabase(made.config)
  const log = overrides.log ?? createMemoryLogger()
  const gw = await startGateway(config, { ...overrides, log })
  return {
    ...gw,
    rootKey,
    dataDir: config.DATA_DIR,
    logLines: (log as ReturnType<typeof createMemoryLogger>).lines ?? [],
    async close() {
      await gw.stop()
      rmSync(config.DATA_DIR, { recursive: true, force: true })
    },
  }
}

/** fetch() against a test gateway with a key and JSON body. */
export async function call(
  gw: { url: string },
  method: string,
  path: string,
  opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.key) headers.authorization = `Bearer ${opts.key}`
  let body: string | undefined
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
  }
  const res = await fetch(gw.url + path, { method, headers, body })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON; leave the text
  }
  return { status: res.status, body: parsed, headers: res.headers, text }
}
