// The control API's counter registry (xgate's in-memory stats views) and the builders of the
// four-segment counter names of SPEC §9. Counters are views: resetting one never touches billing.

/** One counter as StatsService reports it. */
export type Stat = { name: string; value: number }

/** QueryStats selection: Xray's `pattern` plus v2fly's `patterns` / `regexp`. */
export type StatsQuery = {
  pattern?: string
  patterns?: string[]
  regexp?: boolean
  reset?: boolean
}

/** A counter's storage: holders of a cell add to it directly, with no name lookup. */
export type Cell = { v: number }

export interface Counters {
  /**
   * The cell behind a name, created at 0 if new. Once the registry is full a detached cell is
   * returned (counted as refused) so callers never need to check. A dropped name's old cell is
   * detached from the registry: holders must fetch cells again after dropPrefix (see epoch()).
   */
  cell(name: string): Cell
  /** Changes whenever dropPrefix removes counters, so cached cells can be refreshed. */
  epoch(): number
  /** Adds n (an integer; bytes, requests, tokens or nano-USD) and creates the counter if new. */
  add(name: string, n: number): void
  /** The value, or undefined for a name never added (GetStats answers NOT_FOUND). */
  get(name: string): number | undefined
  /** Swaps the counter to 0 and returns the old value, in one synchronous step. */
  reset(name: string): number | undefined
  /** Matching counters sorted by name; with `reset` each is swapped to 0 as it is read. */
  query(q: StatsQuery): Stat[]
  /** Deletes every counter whose name starts with prefix; returns how many went. */
  dropPrefix(prefix: string): number
  size(): number
  /** New names refused because the registry was full (a bug or an attack if it grows). */
  refused(): number
}

/**
 * Values are JS numbers: exact up to 2^53 (9e15 bytes, or about 9 million USD in nano-USD) since
 * the last reset, which these views never reach between scrapes. JS runs one call at a time, so
 * read-then-write without an await in between is atomic: no increment is lost by a reset.
 * `maxCounters` bounds memory: names come from accounts, keys, models and surfaces.
 */
export function createCounters(opts: { maxCounters?: number } = {}): Counters {
  const max = opts.maxCounters ?? 200_000
  const values = new Map<string, Cell>()
  let refusedNames = 0
  let epoch = 0

  function matcher(q: StatsQuery): (name: string) => boolean {
    const list = [...(q.patterns ?? [])]
    if (q.pattern) list.push(q.pattern)
    if (list.length === 0) return () => true
    if (q.regexp) {
      // Throws SyntaxError on a bad expression; the service turns that into INVALID_ARGUMENT.
      const res = list.map((p) => new RegExp(p))
      return (name) => res.some((re) => re.test(name))
    }
    return (name) => list.some((p) => name.includes(p))
  }

  const cell = (name: string): Cell => {
    let c = values.get(name)
    if (c) return c
    c = { v: 0 }
    if (values.size < max) values.set(name, c)
    else refusedNames++
    return c
  }

  return {
    cell,
    epoch: () => epoch,
    add(name, n) {
      cell(name).v += n
    },
    get: (name) => values.get(name)?.v,
    reset(name) {
      const c = values.get(name)
      if (!c) return undefined
      const old = c.v
      c.v = 0
      return old
    },
    query(q) {
      const match = matcher(q)
      const out: Stat[] = []
      for (const [name, c] of values) {
        if (!match(name)) continue
        out.push({ name, value: c.v })
        if (q.reset) c.v = 0
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    },
    dropPrefix(prefix) {
      let n = 0
      for (const name of values.keys()) {
        if (name.startsWith(prefix)) {
          values.delete(name)
          n++
        }
      }
      if (n) epoch++
      return n
    },
    size: () => values.size,
    refused: () => refusedNames,
  }
}

export type Scope = 'user' | 'inbound' | 'outbound' | 'model'
export type Direction = 'uplink' | 'downlink'
export type RequestKind = 'total' | 'errors' | 'ratelimited'
export type TokenKind = 'prompt' | 'completion' | 'cached'

/**
 * An ID made safe for one segment: exporters split names on `>>>` and index by position, so an
 * ID holds no `>` at all (a trailing `>` next to the separator would shift the split too).
 */
export function sanitizeId(id: string): string {
  return id.replaceAll('>', '_')
}

/** Builders of every counter name xgate keeps; each has exactly four `>>>` segments. */
export const statName = {
  /** Xray's meaning: uplink = request bytes, downlink = response bytes. */
  traffic: (scope: Exclude<Scope, 'model'>, id: string, dir: Direction) =>
    `${scope}>>>${sanitizeId(id)}>>>traffic>>>${dir}`,
  requests: (scope: Scope, id: string, kind: RequestKind) =>
    `${scope}>>>${sanitizeId(id)}>>>requests>>>${kind}`,
  tokens: (scope: Scope, id: string, kind: TokenKind) =>
    `${scope}>>>${sanitizeId(id)}>>>tokens>>>${kind}`,
  /** Charged cost in nano-USD (1 USD = 1e9). */
  cost: (scope: Scope, id: string) => `${scope}>>>${sanitizeId(id)}>>>cost>>>nanousd`,
  /** Prefix of every counter of one scope and ID, for dropPrefix when it is deleted. */
  prefix: (scope: Scope, id: string) => `${scope}>>>${sanitizeId(id)}>>>`,
}
