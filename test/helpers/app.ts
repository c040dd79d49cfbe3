// makeTestApp(): the real app over an in-memory store, for route tests through app.handle().
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config'
import { createApp } from '../../src/app'
import { bootstrap } from '../../src/accounts/bootstrap'
import { openTestStore } from './engine'
import { buildDeps, type DepsOverrides } from '../../src/deps'
import { generateKey } from '../../src/shared/ids'
import { createMemoryLogger } from '../../src/shared/log'

export async function makeTestApp(env: Record<string, string> = {}, overrides: DepsOverrides = {}) {
  const rootKey = generateKey()
  // A DATA_DIR of its own (removed by close) for master.key, which seals secrets at rest.
  const dataDir = env.DATA_DIR ? null : mkdtempSync(join(tmpdir(), 'xgate-app-'))
  const config = loadConfig({}, { DATA_DIR: dataDir ?? env.DATA_DIR!, TZ: 'UTC', INIT_USERS: `root::root@example.com::${rootKey}`, ...env })
  const store = await openTestStore()
  const log = createMemoryLogger()
  const deps = await buildDeps(config, store, { log, ...overrides })
  await bootstrap(store.sql, { initUsers: config.INIT_USERS, dataDir: config.DATA_DIR, nowMs: deps.clock.now() })
  const app = createApp(deps)
  const request = (method: string, path: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.key) headers.authorization = `Bearer ${opts.key}`
    let body: string | undefined
    if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json'
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body)
    }
    return new Request(`http://localhost${path}`, { method, headers, body })
  }
  const close = async () => {
    await store.close()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  }
  return { app, deps, rootKey, log, store, request, close }
}
