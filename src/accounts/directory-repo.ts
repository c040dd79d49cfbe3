// SQL for finding and paging accounts: children by (parent_id, id), subtrees by DNA range
// (`dna > self AND dna < dnaUpperBound`), filters on indexed columns, per-row counters. Every
// statement is prepared once per shape of filter; nothing scans the whole table.
import { idList, inIdList, type Sql } from '../db/sql'
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

export type Directory = ReturnType<typeof createDirectory>

/** The WHERE clause of a page and its values, in order. */
function whereOf(scope: ListScope, f: ListFilter): { where: string; args: unknown[] } {
  const where: string[] = []
  const args: unknown[] = []
  if (scope.kind === 'children') {
    where.push('parent_id = ?')
    args.push(scope.parentId)
  } else {
    where.push('dna > ? AND dna < ?')
    args.push(scope.dna, dnaUpperBound(scope.dna))
  }
  const eq = (column: string, v: unknown) => {
    where.push(`${column} = ?`)
    args.push(v)
  }
  if (f.id !== undefined) eq('id', f.id)
  if (f.name !== undefined) eq('name', f.name)
  if (f.email !== undefined) eq('email', f.email)
  if (f.level !== undefined) eq('level', f.level)
  if (f.dna !== undefined) {
    where.push('dna >= ? AND dna < ?')
    args.push(f.dna, dnaUpperBound(f.dna))
  }
  if (f.column) eq(f.column.name, f.column.value)
  return { where: where.join(' AND '), args }
}

export function createDirectory(sql: Sql) {
  return {
    /** One page (children by ID, a subtree in DNA order, so each account precedes its subtree). */
    async page(scope: ListScope, f: ListFilter, limit: number, offset: number): Promise<Account[]> {
      const { where, args } = whereOf(scope, f)
      const order = scope.kind === 'children' ? 'id' : 'dna'
      // Page the ids on the index first, then read just those rows: OFFSET never touches rows.
      const rows = await sql.all<Record<string, unknown>>(
        `SELECT a.* FROM accounts a JOIN (SELECT id FROM accounts WHERE ${where} ORDER BY ${order}
         LIMIT ? OFFSET ?) p ON a.id = p.id ORDER BY a.${order}`,
        [...args, limit, offset],
      )
      return rows.map(rowToAccount)
    },
    async count(scope: ListScope, f: ListFilter): Promise<number> {
      const { where, args } = whereOf(scope, f)
      return (await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM accounts WHERE ${where}`, args))!.n
    },
    /** Lifetime requests and spend (book units) from the daily aggregates. */
    async usageOf(accountId: number): Promise<{ requests: number; costNano: number }> {
      const r = await sql.get<{ requests: number; cost: number }>(
        `SELECT CAST(COALESCE(SUM(requests), 0) AS BIGINT) AS requests,
           CAST(COALESCE(SUM(cost_nano), 0) AS BIGINT) AS cost
         FROM usage_daily WHERE account_id = ?`,
        [accountId],
      )
      return { requests: r!.requests, costNano: r!.cost }
    },
    /** Lifetime requests and spend of a page of accounts, in one statement (absent = none). */
    async usageOfMany(ids: readonly number[]): Promise<Map<number, { requests: number; costNano: number }>> {
      const rows = await sql.all<{ id: number; requests: number; cost: number }>(
        `SELECT account_id AS id, CAST(SUM(requests) AS BIGINT) AS requests, CAST(SUM(cost_nano) AS BIGINT) AS cost
         FROM usage_daily WHERE ${inIdList(sql, 'account_id')} GROUP BY account_id`,
        [idList(sql, ids)],
      )
      return new Map(rows.map((r) => [r.id, { requests: r.requests, costNano: r.cost }]))
    },
    /** Direct children of each of a page of accounts, in one statement (absent = 0). */
    async childCounts(ids: readonly number[]): Promise<Map<number, number>> {
      const rows = await sql.all<{ id: number; n: number }>(
        `SELECT parent_id AS id, COUNT(*) AS n FROM accounts WHERE ${inIdList(sql, 'parent_id')} GROUP BY parent_id`,
        [idList(sql, ids)],
      )
      return new Map(rows.map((r) => [r.id, r.n]))
    },
    /** The account with this DNA and all its descendants. */
    async subtree(dna: string): Promise<Account[]> {
      const rows = await sql.all<Record<string, unknown>>('SELECT * FROM accounts WHERE dna >= ? AND dna < ?', [
        dna,
        dnaUpperBound(dna),
      ])
      return rows.map(rowToAccount)
    },
    /**
     * Lowers `column` to `cap` on every strict descendant of `dna` whose value is above it, so no
     * account holds a limit above an ancestor's. Returns the accounts changed.
     */
    clampDescendants(dna: string, column: string, cap: number, nowMs: number) {
      return sql.all<{ id: number; name: string; dna: string }>(
        `UPDATE accounts SET ${column} = ?1, updated_at = ?2
         WHERE dna > ?3 AND dna < ?4 AND ${column} > ?1 RETURNING id, name, dna`,
        [cap, nowMs, dna, dnaUpperBound(dna)],
      )
    },
  }
}
