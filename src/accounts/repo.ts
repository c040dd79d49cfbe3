// SQL for account rows: the only module that speaks SQL about accounts (cards and ledger rows are
// the wallet's, wallet/repo.ts). Each method is one statement on the Sql it was made with: the
// database, or a transaction on it.
import { dialect, type Sql } from '../db/sql'

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

export function createAccountsRepo(sql: Sql) {
  const one = async (text: string, v: string | number): Promise<Account | null> => {
    const r = await sql.get<Row>(text, [v])
    return r ? rowToAccount(r) : null
  }
  const count = async (text: string, args: unknown[] = []) =>
    (await sql.get<{ n: number }>(text, args))!.n

  /** A fresh account ID, never one a deleted account had (inside the insert's transaction). */
  const nextId = async (): Promise<number> => {
    const max = dialect(sql, { sqlite: 'MAX', postgres: 'GREATEST' })
    const r = await sql.get<{ last: number }>(
      `UPDATE account_id_mark SET last = ${max}(last, COALESCE((SELECT MAX(id) FROM accounts), 0)) + 1
       RETURNING last`,
    )
    return r!.last
  }

  return {
    findById: (id: number) => one('SELECT * FROM accounts WHERE id = ?', id),
    findByKeyHash: (hash: string) => one('SELECT * FROM accounts WHERE key_hash = ?', hash),
    /** Several accounts by ID in one statement (absent ones are missing from the answer). */
    async findManyById(ids: readonly number[]): Promise<Account[]> {
      if (ids.length === 0) return []
      const marks = ids.map(() => '?').join(', ')
      return (await sql.all<Row>(`SELECT * FROM accounts WHERE id IN (${marks})`, ids)).map(rowToAccount)
    },
    count: () => count('SELECT COUNT(*) AS n FROM accounts'),
    /**
     * Inserts an account (a fresh ID unless given) and sets its DNA to parent's DNA + id + '.'.
     * The caller wraps this in a transaction with the cards and ledger rows of the operation.
     */
    async insert(fields: Omit<Account, 'id' | 'dna'> & { id?: number }, parentDna: string): Promise<Account> {
      const cols = accountColumns({ ...fields, dna: `~${fields.keyHash}` })
      cols.unshift(['id', fields.id ?? (await nextId())])
      const names = cols.map(([c]) => c)
      const r = await sql.get<{ id: number }>(
        `INSERT INTO accounts (${names.join(',')}) VALUES (${names.map(() => '?').join(',')}) RETURNING id`,
        cols.map(([, v]) => v),
      )
      const id = r!.id
      const dna = `${parentDna}${id}.`
      await sql.run('UPDATE accounts SET dna = ? WHERE id = ?', [dna, id])
      return { ...fields, id, dna } as Account
    },
    findByName: (name: string) => one('SELECT * FROM accounts WHERE name = ?', name),
    findByEmail: (email: string) => one('SELECT * FROM accounts WHERE email = ?', email),
    findByDna: (dna: string) => one('SELECT * FROM accounts WHERE dna = ?', dna),
    /** Direct children by ID, at most `limit` (index accounts_parent). */
    async childrenOf(id: number, limit: number): Promise<Account[]> {
      const rows = await sql.all<Row>('SELECT * FROM accounts WHERE parent_id = ? ORDER BY id LIMIT ?', [id, limit])
      return rows.map(rowToAccount)
    },
    childCount: (id: number) => count('SELECT COUNT(*) AS n FROM accounts WHERE parent_id = ?', [id]),
    /** The lowest Rates among direct children (null without children): a floor for re-rating. */
    async minChildRates(id: number): Promise<number | null> {
      const r = await sql.get<{ r: number | null }>('SELECT MIN(rates) AS r FROM accounts WHERE parent_id = ?', [id])
      return r?.r ?? null
    },
    /** Writes the given fields (never id, dna or parent). */
    async update(id: number, fields: Partial<Account>): Promise<void> {
      const cols = accountColumns(fields).filter(([c]) => c !== 'dna' && c !== 'parent_id')
      if (cols.length === 0) return
      const sets = cols.map(([c]) => `${c} = ?`).join(', ')
      await sql.run(`UPDATE accounts SET ${sets} WHERE id = ?`, [...cols.map(([, v]) => v), id])
    },
    nextId,
    /**
     * Locks the given account rows for the rest of the transaction, in id order (PostgreSQL; a
     * SQLite transaction holds the whole database). Every admin write takes its accounts first,
     * so two writes over the same accounts queue instead of deadlocking.
     */
    async lock(ids: readonly number[]): Promise<void> {
      if (sql.engine !== 'postgres' || ids.length === 0) return
      const sorted = [...new Set(ids)].sort((a, b) => a - b)
      await sql.all(
        `SELECT id FROM accounts WHERE id IN (${sorted.map(() => '?').join(', ')}) ORDER BY id FOR NO KEY UPDATE`,
        sorted,
      )
    },
    /** Hard-deletes one account row (its cards cascade); ledger and op log rows stay. */
    async remove(id: number): Promise<void> {
      await sql.run('DELETE FROM accounts WHERE id = ?', [id])
    },
  }
}
