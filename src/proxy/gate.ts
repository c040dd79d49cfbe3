// The rate-limit step of the pipeline (§5), as an interface the limits feature implements:
// reserve before the upstream call, settle with the real figures, release when nothing was sent.
import type { Account } from '../accounts/repo'
import type { Denial } from '../shared/errors'

export type LimitTicket = unknown

export type LimitRequest = {
  account: Account
  model: string
  mappedModel: string
  /** The parsed JSON body (null for multipart), for a prompt-token estimate. */
  body: Record<string, unknown> | null
}

export type LimitsGate = {
  reserve(req: LimitRequest): { ok: true; ticket: LimitTicket } | Denial
  settle(ticket: LimitTicket, facts: { totalTokens: number; costNano: number }): void
  /** The call never reached a provider: give the reservation back. */
  release(ticket: LimitTicket): void
  /** Calls in flight counted against the account's Concurrency (its subtree's included). */
  inFlightOf?(accountId: number): number
}
