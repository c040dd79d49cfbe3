// Wires metering: the price book (embedded table + MODEL_PRICES), the hot-path ledger, the usage
// store and the settler, both stores registered with the write-behind flusher, cached balances
// dropped on account events.
import type { Sql } from '../db/sql'
import { ConfigError, type Config } from '../config'
import type { Flusher } from '../db/flusher'
import { createCalendar } from '../limits/daykey'
import type { Clock } from '../shared/clock'
import type { Events } from '../shared/events'
import type { Logger } from '../shared/log'
import { createLedger, type Ledger } from '../wallet/ledger'
import { createPricing, type PriceEntry, type Pricing } from './pricing'
import { createCardsRepo } from '../wallet/repo'
import { createSettler, type Settler } from './settle'
import { createUsageStore, type UsageStore } from './usage'

export type Metering = {
  pricing(): Pricing
  /** Applies a new MODEL_PRICES (from /x-config); throws AppError naming a bad entry. */
  setPrices(overrides: Record<string, PriceEntry> | undefined): void
  ledger: Ledger
  usage: UsageStore
  settler: Settler
}

export function parseModelPrices(raw: string | undefined): Record<string, PriceEntry> | undefined {
  if (!raw || !raw.trim()) return undefined
  try {
    return JSON.parse(raw) as Record<string, PriceEntry>
  } catch {
    throw new ConfigError('invalid setting MODEL_PRICES: not a JSON object')
  }
}

export function createMetering(opts: {
  config: Config
  db: Sql
  clock: Clock
  log: Logger
  flusher: Flusher
  events: Events
  /** Several nodes: a card with money left expired (see the ledger's onExpired). */
  onCardExpired?: (accountId: number, expiredNano: number, key: string) => void
}): Metering {
  let pricing: Pricing
  try {
    pricing = createPricing(parseModelPrices(opts.config.MODEL_PRICES))
  } catch (e) {
    if (e instanceof ConfigError) throw e
    throw new ConfigError(`invalid setting ${(e as Error).message}`)
  }
  const cards = createCardsRepo(opts.db)
  const ledger = createLedger({
    load: (id) => cards.cardsOf(id),
    loadMany: (ids) => cards.cardsOfMany(ids),
    onExpired: opts.onCardExpired,
    clock: opts.clock,
    log: opts.log,
  })
  const usage = createUsageStore({ calendar: createCalendar(opts.config.TZ) })
  const settler = createSettler({ ledger, usage, flusher: opts.flusher, clock: opts.clock })
  // Usage rows before the charges: both land in the same transaction either way.
  opts.flusher.register(usage)
  opts.flusher.register(ledger)
  opts.events.onAccountChanged((e) => ledger.forget(e.id))
  opts.events.onAccountDeleted((e) => ledger.forget(e.id))
  return {
    pricing: () => pricing,
    setPrices(overrides) {
      pricing = createPricing(overrides)
    },
    ledger,
    usage,
    settler,
  }
}
