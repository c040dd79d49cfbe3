// The store's one-off commands for both engines: `xgate check` (integrity on SQLite, then the
// books: cards == ledger per account, no movement that received more than it paid), `xgate backup
// FILE` (SQLite: VACUUM INTO while serving; PostgreSQL: pg_dump when it is installed) and
// `xgate migrate` (apply the schema and exit, for deploys that migrate before they start).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createCardsRepo } from '../wallet/repo'
import { backupTo, openForCheck } from './open'
import type { SqlDb } from './sql'

export type CommandConfig = { DATA_DIR: string; DATABASE_URL?: string }

/** Lines for the operator and whether the store is sound. */
export type CheckReport = { lines: string[]; ok: boolean }

async function books(sql: SqlDb, lines: string[]): Promise<boolean> {
  const cards = createCardsRepo(sql)
  const violations = await cards.invariantViolations()
  const created = await cards.conservationViolations()
  for (const v of violations)
    lines.push(`ledger mismatch: account ${v.id} (${v.name}) cards=${v.cardsNano} ledger=${v.ledgerNano} nano-USD`)
  if (violations.length === 0) lines.push('ledger: ok (cards == ledger for every account)')
  for (const c of created)
    lines.push(`conservation: operation ${c.ref} paid ${c.paidNano} and received ${c.receivedNano} real nano-USD`)
  if (created.length === 0) lines.push('conservation: ok (no movement received more than it paid)')
  return violations.length === 0 && created.length === 0
}

export async function checkStore(config: CommandConfig): Promise<CheckReport> {
  const lines: string[] = []
  if (config.DATABASE_URL) {
    const { openPostgresStore } = await import('./pg-store')
    const store = await openPostgresStore(config.DATABASE_URL, { max: 2 })
    try {
      lines.push(`database: ${store.path}`)
      return { lines, ok: await books(store.sql, lines) }
    } finally {
      await store.close()
    }
  }
  const path = join(config.DATA_DIR, 'xgate.db')
  if (!existsSync(path)) throw new Error(`no database at ${path}`)
  const { sql, integrity, close } = openForCheck(path)
  try {
    const sound = integrity.length === 1 && integrity[0] === 'ok'
    lines.push(sound ? 'integrity_check: ok' : `integrity_check: ${integrity.join('; ')}`)
    const balanced = await books(sql, lines)
    return { lines, ok: sound && balanced }
  } finally {
    close()
  }
}

/** `xgate backup FILE`: returns what was done, in words. */
export async function backupStore(config: CommandConfig, file: string): Promise<string> {
  if (!config.DATABASE_URL) {
    backupTo(config.DATA_DIR, file)
    return `backup written to ${file}`
  }
  if (existsSync(file)) throw new Error(`backup target ${file} exists already`)
  const dump = Bun.which('pg_dump')
  if (!dump) {
    throw new Error(
      'on PostgreSQL back up with pg_dump (or your provider\'s snapshots): pg_dump --format=custom --file=FILE "$DATABASE_URL"',
    )
  }
  const r = Bun.spawnSync([dump, '--format=custom', `--file=${file}`, config.DATABASE_URL], { stderr: 'pipe' })
  if (r.exitCode !== 0) throw new Error(`pg_dump failed: ${r.stderr.toString().trim()}`)
  return `backup written to ${file} by pg_dump (restore with pg_restore)`
}

/** `xgate migrate`: the schema brought up to date; returns how many versions were applied. */
export async function migrateStore(config: CommandConfig): Promise<{ applied: number; where: string }> {
  if (config.DATABASE_URL) {
    const { postgresSql } = await import('./postgres')
    const { migratePostgres } = await import('./pg-store')
    const sql = postgresSql(config.DATABASE_URL, { max: 1 })
    try {
      return { applied: await migratePostgres(sql), where: sql.where }
    } finally {
      await sql.close()
    }
  }
  const { Database } = await import('bun:sqlite')
  const { migrate } = await import('./migrations')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(config.DATA_DIR, { recursive: true, mode: 0o700 })
  const path = join(config.DATA_DIR, 'xgate.db')
  const db = new Database(path, { create: true, strict: true })
  try {
    db.exec('PRAGMA busy_timeout=5000')
    return { applied: migrate(db), where: path }
  } finally {
    db.close()
  }
}
