// Wires limits and alerts into a gateway: the windows and monthly spend restored at start and
// written behind, the gate the proxy calls, spend and alerts fed from settled calls.
import type { Sql } from '../db/sql'
import type { Account } from '../accounts/repo'
import type { Tree } from '../accounts/tree'
import { createMailer, type MailSettings, type Mailer } from '../alerts/mailer'
import { createAlertsRepo } from '../alerts/repo'
import { createAlerts, type AlertAccount, type AlertClaims, type Alerts } from '../alerts/service'
import { ROOT_ID } from '../shared/ids'
import type { Metering } from '../billing/metering'
import type { Config } from '../config'
import type { Flusher } from '../db/flusher'
import type { LimitsGate } from '../proxy/gate'
import type { Clock } from '../shared/clock'
import type { Events } from '../shared/events'
import type { Logger } from '../shared/log'
import { usdToNano } from '../shared/money'
import type { Settings } from '../settings/service'
import { lazyPromptCounter } from './estimate'
import { createLimitsGate, type LocalGate } from './gate'
import type { SharedGate } from '../cluster/gate'
import { createMonthlySpend, type MonthlySpend } from './monthly'
import { monthSource, windowsSource } from './persist'
import { createMonthSpendRepo, createWindowsRepo } from './repo'
import { createLimitWindows, type LimitWindows } from './windows'
import type { Holds } from '../wallet/holds'

/**
 * Limit scopes held in memory (least recently used evicted first). One per limited account plus one per limited account × model
 * pattern; 1.8–3.3 KB each (fixed rings), so about 0.5–0.8 GB if every slot were ever in use.
 */
export const MAX_LIMIT_SCOPES = 250_000

export type Limits = {
  windows: LimitWindows
  monthly: MonthlySpend
  /** The single-node gate (synchronous). */
  gate: LocalGate
  /** The same gate over the state several nodes share (cluster/gate.ts). */
  sharedGate(shared: SharedGate): LimitsGate
  /**
   * Several nodes: another node wrote these accounts' usage. Their month spend becomes what every
   * node wrote plus what this one has not written yet, so HardLimit counts the whole gateway's.
   */
  refreshSpend(accountIds: readonly number[]): Promise<void>
  alerts: Alerts
  mailer: Mailer
  /** Sends what the mailer holds (bounded by `ms`) and closes SMTP; for graceful stop. */
  stop(ms: number): Promise<void>
}

export type LimitsDeps = {
  config: Config
  db: Sql
  clock: Clock
  log: Logger
  flusher: Flusher
  tree: Tree
  events: Events
  billing: Metering
  /** The live /x-config values: MODEL_LIMITS, EMAIL_*, XAI_MAIL, EMAIL_BALANCE. */
  settings: Pick<Settings, 'modelLimits' | 'mail' | 'emailBalanceUsd'>
  /** Open holds count against HardLimit; a deleted account's last calls send no mail. */
  holds: Pick<Holds, 'heldOf' | 'isEscrowed'>
  /** Several nodes: one alert mail from the gateway, not one per node. */
  alertClaims?: AlertClaims
}

/** The settings' mail keys as the mailer reads them, anew for every mail. */
export function mailSettingsOf(m: ReturnType<Settings['mail']>): MailSettings {
  return {
    smtp: m.smtp,
    port: m.port,
    user: m.auth,
    pass: m.pass,
    sender: m.sender,
    tls: m.tls,
    bcc: m.xaiMail?.join(', '),
  }
}

const alertAccount = (a: Account): AlertAccount => ({
  id: a.id,
  name: a.name,
  email: a.email,
  billingEmail: a.billingEmail,
  softLimitNano: a.softLimitNano,
  rates: a.rates,
})

export async function createLimits(d: LimitsDeps): Promise<Limits> {
  const { config, db, clock, flusher, billing } = d
  const windows = createLimitWindows({ clock, timeZone: config.TZ, maxScopes: MAX_LIMIT_SCOPES })
  const monthly = createMonthlySpend({ clock, timeZone: config.TZ })
  const windowsRepo = createWindowsRepo(db)
  const now = clock.now()
  await windowsRepo.prune(now)
  windows.restore(await windowsRepo.loadAll(), now)
  monthly.restore(await createMonthSpendRepo(db).loadSince(monthly.calendar.month(now).startMs), now)
  flusher.register(windowsSource(windows, clock))
  flusher.register(monthSource(monthly))

  const mailer = createMailer(() => mailSettingsOf(d.settings.mail()), d.log, clock)
  const emailBalanceNano = () => usdToNano(d.settings.emailBalanceUsd())
  const alerts = createAlerts({
    mailer,
    clock,
    timeZone: config.TZ,
    emailBalanceNano,
    claims: d.alertClaims,
  })
  alerts.restore(await createAlertsRepo(db).loadAll())
  flusher.register(alerts)

  const gateOptions = {
    windows,
    monthly,
    clock,
    limitChain: (a: Account) => d.tree.view(a.id)?.limitChain ?? [a],
    modelLimits: () => d.settings.modelLimits(),
    prompt: lazyPromptCounter(),
    heldOf: d.holds.heldOf,
  }
  const gate = createLimitsGate(gateOptions)
  const sharedGate = (shared: SharedGate) => createLimitsGate({ ...gateOptions, shared })
  const refreshSpend = async (ids: readonly number[]) => {
    const month = monthly.calendar.month(clock.now()).key
    const spent = await createMonthSpendRepo(db).spentIn(ids, month)
    for (const id of ids) {
      if (id === ROOT_ID || d.holds.isEscrowed(id)) continue
      monthly.set(id, (spent.get(id) ?? 0) + billing.ledger.pendingOf(id))
    }
  }

  // Settlement runs once per call, after the ledger charge: spend first, so alerts see it.
  billing.settler.onSettled(({ record, summary }) => {
    const a = summary.account
    // A call that outlived its account's delete: no spend to track, nobody to mail.
    if (d.holds.isEscrowed(a.id)) return
    if (record.costNano > 0) monthly.add(a.id, record.costNano)
    if (a.id === ROOT_ID) return
    const check = () => {
      try {
        // The account itself carries every field alerts read: no per-call copy.
        alerts.onSpend(a, monthly.get(a.id), billing.ledger.balanceOf(a.id))
      } catch (e) {
        d.log.error('alert check failed', { accountId: a.id, error: (e as Error).message })
      }
    }
    // The balance needs the account's cards in memory (an admin change may have dropped them).
    const warming = billing.ledger.warm(a.id)
    if (warming) warming.then(check, (e) => d.log.error('alert check failed', { accountId: a.id, error: (e as Error).message }))
    else check()
  })
  // A top-up above EMAIL_BALANCE re-arms the low-balance mail; a drop is mailed by the next call.
  d.events.onAccountChanged((e) => {
    if (e.id === ROOT_ID) return
    void (async () => {
      const a = await d.tree.load(e.id)
      if (!a) return
      const w = billing.ledger.warm(a.id)
      if (w) await w
      const balance = billing.ledger.balanceOf(a.id)
      if (balance >= Math.round(emailBalanceNano() * a.rates))
        alerts.onBalance(alertAccount(a), balance)
    })().catch((err) => d.log.error('alert check failed', { accountId: e.id, error: (err as Error).message }))
  })
  d.events.onAccountDeleted((e) => {
    windows.forget(`a:${e.id}`)
    monthly.forget(e.id)
    alerts.forget(e.id)
  })

  return { windows, monthly, gate, sharedGate, refreshSpend, alerts, mailer, stop: (ms) => mailer.stop(ms) }
}
