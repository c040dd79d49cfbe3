// Settlement of one proxied call: cost from the price and the final usage (list price × the
// account's Rates, rounded once), the charge queued on the ledger, the usage record queued for the
// flusher, and the observers (limits, counters) told. The proxy calls it exactly once per call.
import type { Account } from '../accounts/repo'
import type { Flusher } from '../db/flusher'
import type { Clock } from '../shared/clock'
import type { Ledger } from '../wallet/ledger'
import { costNano, type ResolvedPrice, type Usage } from './pricing'
import type { UsageRecord } from './repo'
import type { UsageStore } from './usage'

export type CallSummary = {
  requestId: string
  startedAtMs: number
  account: Account
  keyId: number | null
  keyName: string | null
  endpoint: string
  surface: 'openai' | 'anthropic'
  /** The upstream's dialect (the key's type): the surface's, or the other one for a translated call. */
  provider?: 'openai' | 'anthropic'
  model: string
  mappedModel: string
  /** HTTP status the client got; 499 when the client went away first. */
  status: number
  ttfbMs: number | null
  clientIp: string
  price: ResolvedPrice | undefined
  /** Final usage (reported or estimated); null when nothing was consumed. */
  usage: Usage | null
  estimated: boolean
  uplinkBytes: number
  downlinkBytes: number
}

export type SettledCall = { record: UsageRecord; summary: CallSummary }

export type Settler = ReturnType<typeof createSettler>

export function createSettler(opts: {
  ledger: Ledger
  usage: UsageStore
  flusher: Flusher
  clock: Clock
}) {
  const observers: Array<(c: SettledCall) => void> = []
  return {
    /** Limits, counters and alerts subscribe here; an observer must not throw. */
    onSettled(fn: (c: SettledCall) => void): void {
      observers.push(fn)
    },
    settle(s: CallSummary): UsageRecord {
      const ok = s.status < 400
      const u: Usage = s.usage ?? { promptTokens: 0, completionTokens: 0, cachedTokens: 0 }
      // Per-request and per-image prices apply to calls that succeeded; tokens whenever reported.
      const cost = s.price
        ? costNano(
            s.price,
            {
              promptTokens: u.promptTokens,
              completionTokens: u.completionTokens,
              cachedTokens: u.cachedTokens,
              cacheWriteTokens: u.cacheWriteTokens,
              cacheWrite1hTokens: u.cacheWrite1hTokens,
              requests: ok ? 1 : 0,
              images: ok ? (u.images ?? 0) : 0,
            },
            s.account.rates,
          )
        : { listNano: 0, chargedNano: 0 }
      // Stored as costNano bills them: reads within the prompt, writes within what reads leave.
      const cached = Math.min(u.cachedTokens, u.promptTokens)
      const writes = Math.min(u.cacheWriteTokens ?? 0, u.promptTokens - cached)
      const record: UsageRecord = {
        requestId: s.requestId,
        createdAt: s.startedAtMs,
        accountId: s.account.id,
        keyId: s.keyId,
        endpoint: s.endpoint,
        model: s.model,
        mappedModel: s.mappedModel,
        promptTokens: u.promptTokens,
        completionTokens: u.completionTokens,
        cachedTokens: cached,
        cacheWriteTokens: writes,
        cacheWrite1hTokens: Math.min(u.cacheWrite1hTokens ?? 0, writes),
        totalTokens: u.promptTokens + u.completionTokens,
        listNano: cost.listNano,
        costNano: cost.chargedNano,
        status: s.status,
        latencyMs: Math.max(0, opts.clock.now() - s.startedAtMs),
        ttfbMs: s.ttfbMs,
        estimated: s.estimated,
        clientIp: s.clientIp,
      }
      opts.ledger.charge(s.account.id, cost.chargedNano, s.requestId)
      opts.usage.add(record)
      for (const fn of observers) fn({ record, summary: s })
      opts.flusher.poke()
      return record
    },
  }
}
