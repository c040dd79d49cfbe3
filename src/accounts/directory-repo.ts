// SQL for finding and paging accounts: children by (parent_id, id), subtrees by DNA range
// (`dna > self AND dna < dnaUpperBound`), filters on indexed columns, per-row counters. Every
// statement is prepared once per shape of filter; nothing scans the whole table.
import type { Database } from 'bun:sqlite'
import { dnaUpperBound } from '../logs/repo'
import { rowToAccount, type Account } from './repo'

/** Filter columns of `L{n} G{n} R{n} T{n} F{n}`. */
export const FILTER_COLUMNS = { L: 'level', G: 'gear', R: 'role', T: 'tier', F: 'factor' } as const

export type ListScope = { kind: 'children'; parentId: number } | { kind: 'subtree'; dna: string }

export type ListFilter = {
  id?: number
  name?: string
  email?: string
  level?: number
  /** Only this DNA and its subtree. */
  dna?: string
  column?: { name: (typeof FILTER_COLUMNS)[keyof typeof FILTER_COLUMNS]; value: number }
}

type Stmt = ReturnType<Database['prepare']>

export type Directory = ReturnType<typeof createDirectory>

export function createDirectory(db: Database) {
  const statements = new Map<string, { page: Stmt; count: Stmt }>()
  const usage = db.prepare(
    `SELECT COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(cost_nano), 0) AS cost
     FROM usage_daily WHERE account_id = ?`,
  )
  const usageMany = db.prepare(
    `SELECT account_id AS id, SUM(requests) AS requests, SUM(cost_nano) AS cost FROM usage_daily
     WHERE account_id IN (SELECT value FROM json_each(?)) GROUP BY account_id`,
  )
  const childCounts = db.prepare(
    `SELECT parent_id AS id, COUNT(*) AS n FROM accounts
     WHERE parent_id IN (SELECT value FROM json_each(?)) GROUP BY parent_id`,
  )
  const subtreeAll = db.prepare('SELECT * FROM accounts WHERE dna >= ? AND dna < ?')
  const clampStatements = new Map<string, Stmt>()

  function prepared(scope: ListScope, f: ListFilter) {
    const where: string[] = []
    if (scope.kind === 'children') where.push('parent_id = $parent')
    else where.push('dna > $lo AND dna < $hi')
    if (f.id !== undefined) where.push('id = $id')
    if (f.name !== undefined) where.push('name = $name')
    if (f.email !== undefined) where.push('email = $email')
    if (f.level !== undefined) where.push('level = $level')
    if (f.dna !== undefined) where.push('dna >= $dlo AND dna < $dhi')
    if (f.column) where.push(`${f.column.name} = $fv`)
    const key = where.join(' AND ')
    let s = statements.get(key)
    if (!s) {
      const order = scope.kind === 'children' ? 'id' : 'dna'
      // Page the ids on the index first, then read just those rows: OFFSET never touches rows.
      s = {
        page: db.prepare(
          `SELECT a.* FROM accounts a JOIN (SELECT id FROM accounts WHERE ${key} ORDER BY ${order}
           LIMIT $limit OFFSET $offset) p ON a.id = p.id ORDER BY a.${order}`,
        ),
        count: db.prepare(`SELECT COUNT(*) AS n FROM accounts WHERE ${key}`),
      }
      statements.set(key, s)
    }
    return s
  }

  function params(scope: ListScope, f: ListFilter): Record<string, string | number> {
    const p: Record<string, string | number> = {}
    if (scope.kind === 'children') p.parent = scope.parentId
    else Object.assign(p, { lo: scope.dna, hi: dnaUpperBound(scope.dna) })
    if (f.id !== undefined) p.id = f.id
    if (f.name !== undefined) p.name = f.name
    if (f.email !== undefined) p.email = f.email
    if (f.level !== undefined) p.level = f.level
    if (f.dna !== undefined) Object.assign(p, { dlo: f.dna, dhi: dnaUpperBound(f.dna) })
    if (f.column) p.fv = f.column.value
    return p
  }

  return {
    /** One page (children by ID, a subtree in DNA order, so each account precedes its subtree). */
    page(scope: ListScope, f: ListFilter, limit: number, offset: number): Account[] {
      const rows = prepared(scope, f).page.all({ ...params(scope, f), limit, offset })
      return (rows as Record<string, unknown>[]).map(rowToAccount)
    },
    count(scope: ListScope, f: ListFilter): number {
      return (prepared(scope, f).count.get(params(scope, f)) as { n: number }).n
    },
    /** Lifetime requests and spend (book units) from the daily aggregates. */
    usageOf(accountId: number): { requests: number; costNano: number } {
      const r = usage.get(accountId) as { requests: number; cost: number }
      return { requests: r.requests, costNano: r.cost }
    },
    /** Lifetime requests and spend of a page of accounts, in one statement (absent = none). */
    usageOfMany(ids: readonly number[]): Map<number, { requests: number; costNano: number }> {
      const rows = usageMany.all(JSON.stringify(ids)) as Array<{
        id: number
        requests: number
        cost: number
      }>
      return new Map(rows.map((r) => [r.id, { requests: r.requests, costNano: r.cost }]))
    },
    /** Direct children of each of a page of accounts, in one statement (absent = 0). */
    childCounts(ids: readonly number[]): Map<number, number> {
      const rows = childCounts.all(JSON.stringify(ids)) as Array<{ id: number; n: number }>
      return new Map(rows.map((r) => [r.id, r.n]))
    },
    /** The account with this DNA and all its descendants. */
    subtree(dna: string): Account[] {
      return (subtreeAll.all(dna, dnaUpperBound(dna)) as Record<string, unknown>[]).map(
        rowToAccount,
      )
    },
    /**
     * Lowers `column` to `cap` on every strict descendant of `dna` whose value is above it, so no
     * account holds a limit above an ancestor's. Returns the accounts changed.
     */
    clampDescendants(dna: string, column: string, cap: number, nowMs: number) {
      let s = clampStatements.get(column)
      if (!s) {
        s = db.prepare(
          `UPDATE accounts SET ${column} = $cap, updated_at = $now
           WHERE dna > $lo AND dna < $hi AND ${column} > $cap RETURNING id, name, dna`,
        )
        clampStatements.set(column, s)
      }
      return s.all({ cap, now: nowMs, lo: dna, hi: dnaUpperBound(dna) }) as Array<{
        id: number
        name: string
        dna: string
      }>
    },
  }
}
