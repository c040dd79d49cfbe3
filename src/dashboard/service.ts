// The dashboard (§7.1, §7.2): the caller's status line and its full record with cards, limits,
// lists, mappers, today's and this month's usage and the current use of each limit window. Money
// in USD of the caller's book units; root's balance is unlimited and shown as null.
import type { Card } from '../wallet/cards'
import { balanceJson, type LiveOf, userJson } from '../accounts/render'
import type { CardsRepo } from '../wallet/repo'
import type { Account, AccountsRepo } from '../accounts/repo'
import type { Flusher } from '../db/flusher'
import { dayKey, monthStart } from '../reports/days'
import type { Clock } from '../shared/clock'
import { nanoToUsd } from '../shared/money'
import { limitUse, type LimitUseDeps } from './limit-use'
import type { DashboardRepo, UsageSums } from './repo'

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

export type DashboardService = ReturnType<typeof createDashboardService>

export function createDashboardService(d: {
  repo: DashboardRepo
  accounts: Pick<AccountsRepo, 'childCount'>
  cards: Pick<CardsRepo, 'cardsOf'>
  flusher: Flusher
  clock: Clock
  timeZone: string
  live: LiveOf
  limits: LimitUseDeps
}) {
  /** Unexpired balance after the write-behind has put the latest charges on the cards. */
  const balance = (a: Account, cards: Card[]): number | null => balanceJson(a, cards, d.clock.now())

  return {
    async status(caller: Account) {
      await d.flusher.flushNow()
      return {
        object: 'user_status' as const,
        id: caller.id,
        name: caller.name,
        email: caller.email,
        balance: balance(caller, await d.cards.cardsOf(caller.id)),
        dna: caller.dna,
      }
    },

    async info(caller: Account) {
      await d.flusher.flushNow()
      const a = caller
      const now = d.clock.now()
      const today = dayKey(now, d.timeZone)
      const month = monthStart(today)
      const days = await d.repo.usageByDay(a.id, month, today)
      const cards = await d.cards.cardsOf(a.id)
      const lifetime = await d.repo.lifetime(a.id)
      const live = d.live(a.id)
      return {
        object: 'user_info' as const,
        ...userJson(
          a,
          {
            cards,
            child: await d.accounts.childCount(a.id),
            requests: lifetime.requests,
            creditUsedNano: lifetime.cost_nano,
            live,
          },
          now,
        ),
        Usage: {
          Today: { date: today, ...usageJson(days.filter((r) => r.day === today)) },
          Month: { month: today.slice(0, 7), ...usageJson(days) },
        },
        LimitUse: await limitUse(d.limits, a, live.inFlight),
      }
    },
  }
}
