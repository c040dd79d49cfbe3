// Alert decisions: the SoftLimit mail once per account and local month, the low-balance mail once
// per crossing under EMAIL_BALANCE. O(1) in memory on the call path; state is written behind.
import type { FlushSource } from '../db/flusher'
import { createCalendar } from '../limits/daykey'
import type { Clock } from '../shared/clock'
import type { Mailer } from './mailer'
import { createAlertsRepo, type AlertRow } from './repo'
import { lowBalanceText, softLimitText, type AlertAccount, type MailText } from './texts'

export type { AlertAccount } from './texts'

export type AlertsOptions = {
  mailer: Pick<Mailer, 'enqueue'>
  clock: Clock
  /** IANA zone of the business month (the TZ setting); the system zone when absent. */
  timeZone?: string
  /**
   * EMAIL_BALANCE in nano-USD, read on every check since /x-config may change it. Balances are
   * compared in the account's book units (threshold × Rates), as CALL_MIN_BALANCE is.
   */
  emailBalanceNano: () => number
  /** Several nodes: which one sends a mail that each of them would decide to send. */
  claims?: AlertClaims
}

/**
 * One mail from the whole gateway, however many nodes see the crossing: the first node to claim
 * a mail's key sends it. A claim that cannot be checked (Redis away) sends: a mail twice rather
 * than none.
 */
export type AlertClaims = {
  claim(key: string, ttlMs: number): Promise<boolean>
  release(key: string): Promise<void>
}

/** A SoftLimit mail is claimed for its month (and a little more for time zones). */
const SOFT_CLAIM_MS = 32 * 24 * 3_600_000
/** A low-balance claim is released when the account is topped up here, else lapses after a day. */
const LOW_CLAIM_MS = 24 * 3_600_000

export interface Alerts extends FlushSource<AlertRow> {
  /**
   * After a settled proxied call: synchronous, O(1), no I/O. `monthSpendNano` is the account's
   * spend this local month, `balanceNano` its balance after the charge (Infinity for root).
   */
  onSpend(account: AlertAccount, monthSpendNano: number, balanceNano: number): void
  /** After an admin funding or deduction: re-arms the low-balance mail once topped up. */
  onBalance(account: AlertAccount, balanceNano: number): void
  /** Takes every saved row (alerts/repo loadAll); call once at start, before traffic. Returns the number of rows. */
  restore(rows: readonly AlertRow[]): number
  /** A deleted account: its state goes (xgate may hand its id to a new account). */
  forget(accountId: number): void
  /** Accounts held in memory. */
  readonly size: number
}

type State = { softLimitMonth: string | null; lowBalance: boolean }

export function createAlerts(opts: AlertsOptions): Alerts {
  const calendar = createCalendar(opts.timeZone)
  // Memory: one entry per account currently holding alert state, so bounded by the accounts.
  const states = new Map<number, State>()
  const dirty = new Set<number>()

  const month = () => calendar.month(opts.clock.now()).key

  const send = (account: AlertAccount, mail: MailText, key: string, ttlMs: number) => {
    const to = account.billingEmail || account.email
    const claims = opts.claims
    if (!claims) return opts.mailer.enqueue({ to, ...mail })
    claims.claim(key, ttlMs).then(
      (mine) => mine && opts.mailer.enqueue({ to, ...mail }),
      () => opts.mailer.enqueue({ to, ...mail }),
    )
  }

  const change = (accountId: number, next: State) => {
    states.set(accountId, next)
    dirty.add(accountId)
  }

  const onBalance = (account: AlertAccount, balanceNano: number) => {
    const state = states.get(account.id)
    const thresholdNano = Math.round(opts.emailBalanceNano() * (account.rates ?? 1))
    if (balanceNano < thresholdNano) {
      if (state?.lowBalance) return
      change(account.id, { softLimitMonth: state?.softLimitMonth ?? null, lowBalance: true })
      send(account, lowBalanceText(account, balanceNano, thresholdNano, month()), `low:${account.id}`, LOW_CLAIM_MS)
    } else if (state?.lowBalance) {
      change(account.id, { softLimitMonth: state.softLimitMonth, lowBalance: false })
      opts.claims?.release(`low:${account.id}`).catch(() => {})
    }
  }

  return {
    name: 'alerts',

    onSpend(account, monthSpendNano, balanceNano) {
      const limitNano = account.softLimitNano
      if (limitNano > 0 && monthSpendNano >= limitNano) {
        const now = month()
        const state = states.get(account.id)
        if (state?.softLimitMonth !== now) {
          change(account.id, { softLimitMonth: now, lowBalance: state?.lowBalance ?? false })
          send(account, softLimitText(account, monthSpendNano, now), `soft:${account.id}:${now}`, SOFT_CLAIM_MS)
        }
      }
      onBalance(account, balanceNano)
    },

    onBalance,

    restore(rows) {
      for (const r of rows) {
        if (r.softLimitMonth === null && !r.lowBalance) continue
        states.set(r.accountId, { softLimitMonth: r.softLimitMonth, lowBalance: r.lowBalance })
      }
      return rows.length
    },

    forget(accountId) {
      if (!states.has(accountId)) return
      states.delete(accountId)
      dirty.add(accountId)
    },

    get size() {
      return states.size
    },

    pending: () => dirty.size,

    drain() {
      const rows: AlertRow[] = []
      for (const accountId of dirty) {
        const s = states.get(accountId)
        rows.push({
          accountId,
          softLimitMonth: s?.softLimitMonth ?? null,
          lowBalance: s?.lowBalance ?? false,
        })
        // An entry with nothing left to remember leaves memory once its row is handed over.
        if (s && s.softLimitMonth === null && !s.lowBalance) states.delete(accountId)
      }
      dirty.clear()
      return rows
    },

    write: (tx, rows) => createAlertsRepo(tx).save(rows),

    requeue(rows) {
      for (const r of rows) {
        // A change made since the drain is newer than the row: keep it.
        if (dirty.has(r.accountId)) continue
        if (r.softLimitMonth !== null || r.lowBalance) {
          states.set(r.accountId, { softLimitMonth: r.softLimitMonth, lowBalance: r.lowBalance })
        }
        dirty.add(r.accountId)
      }
    },
  }
}
