// SQL for accounts, cards and ledger rows. The only module that speaks SQL about accounts;
// statements are prepared once per repository.
import type { Database } from 'bun:sqlite'
import { createCardsRepo } from '../wallet/repo'

export type ModelLimits = Record<string, { rpm?: number; tpm?: number }>

/** An account as the rest of xgate sees it (camelCase, money in nano-USD, times in unix ms). */
export type Account = {
  id: number
  parentId: number | null
  name: string
  email: string
  alias: string
  billingEmail: string | null
  status: boolean
  dna: string
  level: number
  gear: number
  role: number
  tier: number
  factor: number
  rates: number
  hardLimitNano: number
  softLimitNano: number
  rpm: number
  rph: number
  rpd: number
  tpm: number
  tph: number
  tpd: number
  /** Calls in flight at once, 0 = unlimited; capped down the tree like RPM. */
  concurrency: number
  modelLimits: ModelLimits | null
  allowIps: string[] | null
  allowModels: string[] | null
  /** Allowed levels as numbers; `'*'` and deny entries (`'-3'`) as text (accounts/lists.ts). */
  allowLevels: Array<number | string> | null
  resources: string[] | null
  modelMapper: Record<string, string> | null
  levelMapper: Record<string, number> | null
  childLimit: number
  keyHash: string
  keyTail: string
  createdAt: number
  updatedAt: number
  /** The last funding (+) or deduction (-) in the account's book units, shown as CreditGranted. */
  creditGrantedNano?: number
}

type Row = Record<string, unknown>

const JSON_COLUMNS = {
  modelLimits: 'model_limits',
  allowIps: 'allow_ips',
  allowModels: 'allow_models',
  allowLevels: 'allow_levels',
  resources: 'resources',
  modelMapper: 'model_mapper',
  levelMapper: 'level_mapper',
} as const

const PLAIN_COLUMNS = {
  parentId: 'parent_id',
  name: 'name',
  email: 'email',
  alias: 'alias',
  billingEmail: 'billing_email',
  dna: 'dna',
  level: 'level',
  gear: 'gear',
  role: 'role',
  tier: 'tier',
  factor: 'factor',
  rates: 'rates',
  hardLimitNano: 'hard_limit_nano',
  softLimitNano: 'soft_limit_nano',
  rpm: 'rpm',
  rph: 'rph',
  rpd: 'rpd',
  tpm: 'tpm',
  tph: 'tph',
  tpd: 'tpd',
  concurrency: 'concurrency',
  childLimit: 'child_limit',
  keyHash: 'key_hash',
  keyTail: 'key_tail',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  creditGrantedNano: 'credit_granted_nano',
} as const

const PLAIN_PAIRS = Object.entries(PLAIN_COLUMNS)
const JSON_PAIRS = Object.entries(JSON_COLUMNS)

export function rowToAccount(r: Row): Account {
  const a: Record<string, unknown> = { id: Number(r.id), status: Number(r.status) === 1 }
  for (const [k, col] of PLAIN_PAIRS) if (r[col] !== undefined) a[k] = r[col]
  for (const [k, col] of JSON_PAIRS) {
    const v = r[col]
    a[k] = v === null || v === undefined ? null : JSON.parse(String(v))
  }
  return a as Account
}

/** Column/value pairs for an insert or update of the given account fields. */
export function accountColumns(fields: Partial<Account>): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = []
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'id' || v === undefined) continue
    if (k === 'status') out.push(['status', v ? 1 : 0])
    else if (k in JSON_COLUMNS) {
      out.push([JSON_COLUMNS[k as keyof typeof JSON_COLUMNS], v === null ? null : JSON.stringify(v)])
    } else if (k in PLAIN_COLUMNS) out.push([PLAIN_COLUMNS[k as keyof typeof PLAIN_COLUMNS], v])
  }
  return out
}

export type AccountsRepo = ReturnType<typeof createAccountsRepo>

export function createAccountsRepo(db: Database) {
  const byId = db.prepare('SELECT * FROM accounts WHERE id = ?')
  const byKeyHash = db.prepare('SELECT * FROM accounts WHERE key_hash = ?')
  const count = db.prepare('SELECT COUNT(*) AS n FROM accounts')
  const setDna = db.prepare('UPDATE accounts SET dna = ? WHERE id = ?')
  // Cards and ledger rows are the wallet's: this repository only hands them on.
  const wallet = createCardsRepo(db)
  const insertStatements = new Map<string, ReturnType<Database['prepare']>>()
  const updateStatements = new Map<string, ReturnType<Database['prepare']>>()
  const byName = db.prepare('SELECT * FROM accounts WHERE name = ?')
  const byEmail = db.prepare('SELECT * FROM accounts WHERE email = ?')
  const byDna = db.prepare('SELECT * FROM accounts WHERE dna = ?')
  const childCount = db.prepare('SELECT COUNT(*) AS n FROM accounts WHERE parent_id = ?')
  const children = db.prepare('SELECT * FROM accounts WHERE parent_id = ? ORDER BY id LIMIT ?')
  const minChildRates = db.prepare('SELECT MIN(rates) AS r FROM accounts WHERE parent_id = ?')
  const remove = db.prepare('DELETE FROM accounts WHERE id = ?')
  const nextId = db.prepare(
    `UPDATE account_id_mark SET last = MAX(last, COALESCE((SELECT MAX(id) FROM accounts), 0)) + 1
     RETURNING last`,
  )
  const one = (stmt: ReturnType<Database['prepare']>, v: string | number): Account | null => {
    const r = stmt.get(v) as Row | null
    return r ? rowToAccount(r) : null
  }

  return {
    findById(id: number): Account | null {
      const r = byId.get(id) as Row | null
      return r ? rowToAccount(r) : null
    },
    findByKeyHash(hash: string): Account | null {
      const r = byKeyHash.get(hash) as Row | null
      return r ? rowToAccount(r) : null
    },
    count(): number {
      return (count.get() as { n: number }).n
    },
    /**
     * Inserts an account and sets its DNA to parent's DNA + id + '.'. The caller wraps this in a
     * transaction together with the cards and ledger rows of the same operation.
     */
    insert(fields: Omit<Account, 'id' | 'dna'> & { id?: number }, parentDna: string): Account {
      const cols = accountColumns({ ...fields, dna: `~${fields.keyHash}` })
      if (fields.id !== undefined) cols.unshift(['id', fields.id])
      const names = cols.map(([c]) => c)
      const sqlKey = names.join(',')
      let stmt = insertStatements.get(sqlKey)
      if (!stmt) {
        stmt = db.prepare(
          `INSERT INTO accounts (${sqlKey}) VALUES (${names.map(() => '?').join(',')}) RETURNING id`,
        )
        insertStatements.set(sqlKey, stmt)
      }
      const { id } = stmt.get(...(cols.map(([, v]) => v) as never[])) as { id: number }
      const dna = `${parentDna}${id}.`
      setDna.run(dna, id)
      return { ...fields, id, dna } as Account
    },
    addCard: wallet.addCard,
    /** Accounts whose cards' total differs from the sum of their ledger rows (must be none). */
    invariantViolations: wallet.invariantViolations,
    addLedger: wallet.addLedger,
    findByName: (name: string) => one(byName, name),
    findByEmail: (email: string) => one(byEmail, email),
    findByDna: (dna: string) => one(byDna, dna),
    /** Direct children by ID, at most `limit` (index accounts_parent). */
    childrenOf(id: number, limit: number): Account[] {
      return (children.all(id, limit) as Row[]).map(rowToAccount)
    },
    childCount(id: number): number {
      return (childCount.get(id) as { n: number }).n
    },
    /** The lowest Rates among direct children (null without children): a floor for re-rating. */
    minChildRates(id: number): number | null {
      return (minChildRates.get(id) as { r: number | null }).r
    },
    /** Writes the given fields (never id, dna or parent); one prepared statement per column set. */
    update(id: number, fields: Partial<Account>): void {
      const cols = accountColumns(fields).filter(([c]) => c !== 'dna' && c !== 'parent_id')
      if (cols.length === 0) return
      const sqlKey = cols.map(([c]) => c).join(',')
      let stmt = updateStatements.get(sqlKey)
      if (!stmt) {
        const sets = cols.map(([c]) => `${c} = ?`).join(', ')
        stmt = db.prepare(`UPDATE accounts SET ${sets} WHERE id = ?`)
        updateStatements.set(sqlKey, stmt)
      }
      stmt.run(...(cols.map(([, v]) => v) as never[]), id)
    },
    /** A fresh account ID, never one a deleted account had (call inside the insert's transaction). */
    nextId(): number {
      return (nextId.get() as { last: number }).last
    },
    /** Hard-deletes one account row (its cards cascade); ledger and op log rows stay. */
    remove(id: number): void {
      remove.run(id)
    },
  }
}
