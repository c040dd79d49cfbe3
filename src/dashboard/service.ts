// The dashboard (§7.1, §7.2): the caller's status line and its full record with cards, limits,
// lists, mappers and today's and this month's usage. Money in USD of the caller's book units;
// root's balance is unlimited and shown as null.
import { balanceOf, type Card } from '../accounts/cards'
import type { Account } from '../accounts/repo'
import type { Flusher } from '../db/flusher'
import { dayKey, monthStart } from '../reports/days'
import type { Clock } from '../shared/clock'
import { nanoToUsd } from '../shared/money'
import type { DashboardRepo, UsageSums } from './repo'

const iso = (ms: number) => new Date(ms).toISOString()

export type UsageJson = {
  requests: number
  prompt_tokens: number
  completion_tokens: number
  cached_tokens: number
  cost: number
}

function usageJson(rows: UsageSums[]): UsageJson {
  const out = {
    requests: 0,
    prompt_tokens: 0,
    completion_tokens: 0,
    cached_tokens: 0,
    cost_nano: 0,
  }
  for (const r of rows) {
    out.requests += r.requests
    out.prompt_tokens += r.prompt_tokens
    out.completion_tokens += r.completion_tokens
    out.cached_tokens += r.cached_tokens
    out.cost_nano += r.cost_nano
  }
  const { cost_nano, ...rest } = out
  return { ...rest, cost: nanoToUsd(cost_nano) }
}

function cardJson(c: Card) {
  return {
    amount: nanoToUsd(c.amountNano),
    balance: nanoToUsd(c.balanceNano),
    granted_at: iso(c.grantedAtMs),
    expires_at: iso(c.expiresAtMs),
    ...(c.reference === undefined ? {} : { reference: c.reference }),
  }
}

export type DashboardService = ReturnType<typeof createDashboardService>

export function createDashboardService(d: {
  repo: DashboardRepo
  flusher: Flusher
  clock: Clock
  timeZone: string
}) {
  /** Unexpired balance after the write-behind has put the latest charges on the cards. */
  const balance = (a: Account, cards: Card[]): number | null =>
    a.id === 1 ? null : nanoToUsd(balanceOf(cards, d.clock.now()))

  return {
    status(caller: Account) {
      d.flusher.flushNow()
      return {
        object: 'user_status' as const,
        id: caller.id,
        name: caller.name,
        email: caller.email,
        balance: balance(caller, d.repo.cardsOf(caller.id)),
        dna: caller.dna,
      }
    },

    info(caller: Account) {
      d.flusher.flushNow()
      const a = caller
      const now = d.clock.now()
      const today = dayKey(now, d.timeZone)
      const month = monthStart(today)
      const days = d.repo.usageByDay(a.id, month, today)
      const cards = d.repo.cardsOf(a.id)
      const lifetime = d.repo.lifetime(a.id)
      return {
        object: 'user_info' as const,
        ID: a.id,
        Name: a.name,
        Email: a.email,
        Alias: a.alias,
        BillingEmail: a.billingEmail,
        Status: a.status,
        DNA: a.dna,
        ParentID: a.parentId,
        Level: a.level,
        Gear: a.gear,
        Role: a.role,
        Tier: a.tier,
        Factor: a.factor,
        Rates: a.rates,
        HardLimit: nanoToUsd(a.hardLimitNano),
        SoftLimit: nanoToUsd(a.softLimitNano),
        RPM: a.rpm,
        RPH: a.rph,
        RPD: a.rpd,
        TPM: a.tpm,
        TPH: a.tph,
        TPD: a.tpd,
        ModelLimits: a.modelLimits,
        AllowIPs: a.allowIps,
        AllowModels: a.allowModels,
        AllowLevels: a.allowLevels,
        Resources: a.resources,
        ModelMapper: a.modelMapper,
        LevelMapper: a.levelMapper,
        ChildLimit: a.childLimit,
        CreatedAt: iso(a.createdAt),
        UpdatedAt: iso(a.updatedAt),
        Child: d.repo.childCount(a.id),
        Balance: balance(a, cards),
        CreditBalance: cards.map(cardJson),
        CreditUsed: nanoToUsd(lifetime.cost_nano),
        Requests: lifetime.requests,
        SecretKey: '***' as const,
        PartialKey: a.keyTail,
        Usage: {
          Today: { date: today, ...usageJson(days.filter((r) => r.day === today)) },
          Month: { month: today.slice(0, 7), ...usageJson(days) },
        },
      }
    },
  }
}
