// First start on an empty database: create root (id 1) and INIT_USERS children, or generate a
// root key, print it once and write it to DATA_DIR/root.key (0600).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { MAX_USD, usdToNano } from '../shared/money'
import { limitNano, MAX_LIMIT_USD } from './values'
import { generateKey, hashKey, isKeyFormat, partialKey } from '../shared/ids'
import type { SqlDb } from '../db/sql'
import type { Account } from './repo'
import { writerOf } from './writer'

const DAY_MS = 86_400_000

/** A child's HardLimit from its credit: ten times it, at most the largest limit an account may have. */
const hardOf = (creditNano: number) => Math.min(creditNano * 10, limitNano(MAX_LIMIT_USD))
const NAME_RE = /^(?=.*[A-Za-z])[A-Za-z0-9_.@-]{4,63}$/
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/

export type InitUser = { name: string; email: string; key: string; creditUsd?: number }

/** Parses INIT_USERS; throws an Error naming the bad entry. */
export function parseInitUsers(raw: string): InitUser[] {
  const users = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const [name, email, key, credit, ...rest] = entry.split('::')
      const where = `INIT_USERS entry ${i + 1}`
      if (!name || !email || !key || rest.length) throw new Error(`${where}: expected name::email::sk-Xvs…[::credit]`)
      if (i === 0 && name !== 'root') throw new Error(`${where}: the first entry must be root`)
      if (i > 0 && (name === 'root' || !NAME_RE.test(name))) throw new Error(`${where}: bad name ${name}`)
      if (!EMAIL_RE.test(email)) throw new Error(`${where}: bad email ${email}`)
      if (!isKeyFormat(key)) throw new Error(`${where}: key must be sk-Xvs followed by 45 letters or digits`)
      if (credit !== undefined && !(Number(credit) >= 0 && Number(credit) <= MAX_USD))
        throw new Error(`${where}: bad credit ${credit} (0 to ${MAX_USD} USD)`)
      if (i === 0 && credit !== undefined) throw new Error(`${where}: root takes no credit (its balance is unlimited)`)
      return { name, email, key, creditUsd: credit === undefined ? undefined : Number(credit) }
    })
  if (users.length === 0) throw new Error('INIT_USERS: empty')
  return users
}

export function baseAccount(nowMs: number): Omit<Account, 'id' | 'dna' | 'name' | 'email' | 'alias' | 'keyHash' | 'keyTail'> {
  return {
    parentId: null, billingEmail: null, status: true, level: 1, gear: 0, role: 0, tier: 0, factor: 0,
    rates: 1, hardLimitNano: 0, softLimitNano: 0, rpm: 0, rph: 0, rpd: 0, tpm: 0, tph: 0, tpd: 0,
    concurrency: 0,
    modelLimits: null, allowIps: null, allowModels: null, allowLevels: null, resources: null,
    modelMapper: null, levelMapper: null, childLimit: 0, createdAt: nowMs, updatedAt: nowMs,
  }
}

export type BootstrapResult = { created: boolean; generatedKey?: string }

/**
 * Seeds an empty database. Children of INIT_USERS get their credit as a card minted by root
 * (root's balance is unlimited, so root pays nothing) with a matching ledger row.
 */
export async function bootstrap(
  db: SqlDb,
  opts: { initUsers?: string; dataDir: string; nowMs: number },
): Promise<BootstrapResult> {
  const users: InitUser[] = opts.initUsers
    ? parseInitUsers(opts.initUsers)
    : [{ name: 'root', email: 'root@localhost.localdomain', key: generateKey() }]
  const created = await db.tx(async (tx) => {
    const w = writerOf(tx)
    // Counted inside the transaction: of two processes starting on one empty database, one seeds.
    if ((await w.accounts.count()) > 0) return false
    const [root, ...children] = users
    const rootAcc = await w.accounts.insert(
      { ...baseAccount(opts.nowMs), id: 1, name: root!.name, email: root!.email, alias: root!.name, keyHash: hashKey(root!.key), keyTail: partialKey(root!.key) },
      '.',
    )
    for (const u of children) {
      const credit = usdToNano(u.creditUsd ?? 0)
      const child = await w.accounts.insert(
        {
          ...baseAccount(opts.nowMs), id: await w.accounts.nextId(), parentId: rootAcc.id, name: u.name, email: u.email, alias: u.name,
          keyHash: hashKey(u.key), keyTail: partialKey(u.key), hardLimitNano: hardOf(credit), softLimitNano: Math.round(hardOf(credit) * 0.8),
        },
        rootAcc.dna,
      )
      if (credit > 0) {
        await w.cards.addCard(child.id, credit, opts.nowMs, opts.nowMs + 365 * DAY_MS, 'INIT_USERS')
        await w.cards.addLedger(child.id, credit, 'recharge', 'INIT_USERS', opts.nowMs)
      }
    }
    return true
  })
  if (!created) return { created: false }
  if (opts.initUsers) return { created: true }
  const key = users[0]!.key
  writeFileSync(join(opts.dataDir, 'root.key'), key + '\n', { mode: 0o600 })
  return { created: true, generatedKey: key }
}
