// Opens DATA_DIR/xgate.db (WAL, foreign keys, NORMAL sync) after taking the single-instance lock.
// The lock is a separate SQLite file held in exclusive locking mode for the life of the process:
// the OS releases it when the process dies, even by kill -9, so there is no stale-PID guessing.
import { Database } from 'bun:sqlite'
import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError } from '../config'
import { migrate } from './migrations'
import type { SqlDb } from './sql'
import { sqliteSql } from './sqlite'

export class InstanceLockedError extends Error {}

/** SQLite's own handle, for the engine's own work (checkpoints, backups); absent on PostgreSQL. */
export type SqliteHandle = Database

/**
 * The opened store: the SQL seam (`sql`) and, on SQLite, its handle for the engine's own work
 * (WAL checkpoints, VACUUM INTO). `path` says where it lives (a file, or the URL without password).
 */
export type Store = {
  engine: 'sqlite' | 'postgres'
  db?: Database
  sql: SqlDb
  close(): void | Promise<void>
  path: string
}

function takeLock(dataDir: string): Database {
  const lock = new Database(join(dataDir, 'xgate.lock'), { create: true })
  lock.exec('PRAGMA locking_mode=EXCLUSIVE')
  try {
    lock.exec('BEGIN EXCLUSIVE')
    lock.exec('COMMIT')
  } catch {
    lock.close()
    throw new InstanceLockedError(
      `another xgate process is already serving DATA_DIR ${dataDir} (lock file xgate.lock is held)`,
    )
  }
  return lock
}

export function applyPragmas(db: Database): void {
  db.exec('PRAGMA journal_mode=WAL')
  db.exec('PRAGMA synchronous=NORMAL')
  db.exec('PRAGMA foreign_keys=ON')
  db.exec('PRAGMA busy_timeout=5000')
  // SQLite's default page cache is 2 MiB; at a million usage records (~0.5 GB) the write-behind's
  // index lookups then miss it and read pages back from the OS. Its writes land at the right edge
  // of the usage B-trees (v6) and the ledger's: 8 MiB holds those pages. The cache is resident
  // memory, part of the gateway's RSS under load (32 MiB took it past 150 MB).
  db.exec('PRAGMA cache_size=-8192')
}

/** Opens the store for serving: lock, pragmas, migrations. */
export function openStore(dataDir: string, opts: { lock?: boolean } = {}): Store & { db: Database } {
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const lock = opts.lock === false ? null : takeLock(dataDir)
  const path = join(dataDir, 'xgate.db')
  const fresh = !existsSync(path)
  const db = new Database(path, { create: true, strict: true })
  if (fresh) chmodSync(path, 0o600)
  applyPragmas(db)
  migrate(db)
  return {
    engine: 'sqlite',
    db,
    sql: sqliteSql(db, path),
    path,
    close() {
      try {
        db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
      } finally {
        db.close()
        lock?.close()
      }
    },
  }
}

/** An in-memory store for tests: same pragmas and migrations, no lock. */
export function openMemoryStore(): Store & { db: Database } {
  const db = new Database(':memory:', { strict: true })
  applyPragmas(db)
  migrate(db)
  return { engine: 'sqlite', db, sql: sqliteSql(db), path: ':memory:', close: () => db.close() }
}

/** `xgate backup FILE`: a consistent copy via VACUUM INTO, safe while another process serves. */
export function backupTo(dataDir: string, file: string): void {
  const path = join(dataDir, 'xgate.db')
  if (!existsSync(path)) throw new Error(`no database at ${path}`)
  if (existsSync(file)) throw new Error(`backup target ${file} exists already`)
  const db = new Database(path, { readonly: true })
  try {
    db.exec('PRAGMA busy_timeout=5000')
    db.prepare('VACUUM INTO ?').run(file)
  } finally {
    db.close()
  }
}

/**
 * The database file of a data folder opened for a one-off command (`xgate check`), without the
 * single-instance lock (a serving process may hold it): migrated, with its `integrity_check` lines.
 */
export function openForCheck(path: string): { sql: SqlDb; integrity: string[]; close(): void } {
  const db = new Database(path, { strict: true })
  db.exec('PRAGMA busy_timeout=5000')
  migrate(db)
  const rows = db.prepare('PRAGMA integrity_check').all() as Array<{ integrity_check: string }>
  return { sql: sqliteSql(db, path), integrity: rows.map((r) => r.integrity_check), close: () => db.close() }
}

/** The store the configuration names: PostgreSQL with DATABASE_URL, else SQLite in DATA_DIR. */
export async function openConfigured(config: { DATA_DIR: string; DATABASE_URL?: string }): Promise<Store> {
  if (config.DATABASE_URL) {
    if (!/^postgres(ql)?:\/\//.test(config.DATABASE_URL)) {
      throw new ConfigError('invalid setting DATABASE_URL: expected postgres://user:password@host:port/database')
    }
    const { openPostgresStore } = await import('./pg-store')
    return openPostgresStore(config.DATABASE_URL)
  }
  return openStore(config.DATA_DIR)
}
