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
  /** The request id (several nodes: the call's member of each shared slot set). */
  callId?: string
  /**
   * Several nodes: the call's hold, taken from the account's shared money counter together with
   * its limits (one Redis round trip). Absent on one node, where the wallet's holds decide.
   */
  money?: { holdNano: number; minNano: number }
}

type Reserved = { ok: true; ticket: LimitTicket } | Denial

export type LimitsGate = {
  /** Synchronous on one node; a promise when several nodes reserve in Redis. */
  reserve(req: LimitRequest): Reserved | Promise<Reserved>
  settle(ticket: LimitTicket, facts: { totalTokens: number; costNano: number }): void
  /** The call never reached a provider: give the reservation back. */
  release(ticket: LimitTicket): void
  /** Calls in flight counted against the account's Concurrency (its subtree's included). */
  inFlightOf?(accountId: number): number
}
