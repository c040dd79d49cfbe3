// The engine the suite runs on: SQLite (default) or PostgreSQL (XGATE_TEST_DB=postgres). On
// PostgreSQL one real server is started for the whole run (test/helpers/postgres.ts) with a migrated
// template database; every DATA_DIR a test uses gets a database of its own, made once and handed
// out again for the same folder, so a restart on the same DATA_DIR sees the same records.
import { openPostgresStore } from '../../src/db/pg-store'
import { postgresSql } from '../../src/db/postgres'
import type { SqlDb } from '../../src/db/sql'
import { sqliteSql } from '../../src/db/sqlite'
import { startPostgres, type PgServer } from './postgres'

export type TestEngine = 'sqlite' | 'postgres'

export function testEngine(): TestEngine {
  return process.env.XGATE_TEST_DB === 'postgres' ? 'postgres' : 'sqlite'
}

/** Registers tests only on the engine they are about (a SQLite file, PostgreSQL's own behaviour). */
export function onEngine(engine: TestEngine, register: () => void): void {
  if (testEngine() === engine) register()
}

let server: Promise<PgServer> | null = null
const byDir = new Map<string, Promise<string>>()

/** The run's PostgreSQL server, started (with its migrated template) on first use. */
export function pgServer(): Promise<PgServer> {
  server ??= (async () => {
    const pg = await startPostgres()
    process.once('exit', () => {
      // Synchronous on purpose: the run is ending and nothing else will wait for it.
      try {
        Bun.spawnSync(['bash', '-c', `pkill -9 -f "${pg.dir}" || true; rm -rf "${pg.dir}"`])
      } catch {
        // best effort
      }
    })
    const url = await pg.createDatabase('xgate_tpl')
    const store = await openPostgresStore(url)
    await store.close()
    ;(pg as PgServer & { useTemplate(name: string): void }).useTemplate(new URL(url).pathname.slice(1))
    return pg
  })()
  return server
}

/** Stops the run's server and removes its folder (the preload's afterAll, at the end of a run). */
export async function stopTestServer(): Promise<void> {
  const s = server
  server = null
  byDir.clear()
  if (s) await (await s).stop()
}

/** A fresh migrated database on the run's server. */
export async function freshDatabase(): Promise<string> {
  return (await pgServer()).createDatabase()
}

/** The database of a DATA_DIR on PostgreSQL runs (the same one for the same folder), else undefined. */
export async function databaseFor(dataDir: string): Promise<string | undefined> {
  if (testEngine() !== 'postgres') return undefined
  let url = byDir.get(dataDir)
  if (!url) {
    url = freshDatabase()
    byDir.set(dataDir, url)
  }
  return url
}

/** A store for a unit test: a fresh PostgreSQL database on PostgreSQL runs, else SQLite in memory. */
export async function openTestStore() {
  if (testEngine() === 'postgres') return openPostgresStore(await freshDatabase())
  const { openMemoryStore } = await import('../../src/db/open')
  return openMemoryStore()
}

/**
 * The records of a DATA_DIR's gateway (stopped or running), read through the SQL seam: the SQLite
 * file opened read-only, or the PostgreSQL database the folder was given. Close it after use.
 */
export async function openDataOf(dataDir: string): Promise<SqlDb> {
  if (testEngine() === 'postgres') return postgresSql((await databaseFor(dataDir))!, { max: 1 })
  const { Database } = await import('bun:sqlite')
  const { join } = await import('node:path')
  return sqliteSql(new Database(join(dataDir, 'xgate.db'), { readonly: true }))
}
