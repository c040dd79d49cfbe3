// Alert state through the write-behind into a real bun:sqlite database (project migrations) and
// back after a simulated restart: no mail is sent twice for the same month or crossing.
import { openTestStore } from '../helpers/engine'
import type { SqlDb } from '../../src/db/sql'
import { afterEach, describe, expect, test } from 'bun:test'
import { createMailer } from '../../src/alerts/mailer'
import { createAlertsRepo } from '../../src/alerts/repo'
import { createAlerts, type AlertAccount } from '../../src/alerts/service'
import { createFlusher } from '../../src/db/flusher'
import { createFakeClock, type FakeClock } from '../../src/shared/clock'
import { createMemoryLogger } from '../../src/shared/log'
import { NANO_PER_USD } from '../../src/shared/money'
import { startSmtp, type TestSmtp } from './mailbox'

const USD = NANO_PER_USD
const TZ = 'Europe/Berlin'
const ACCOUNT: AlertAccount = {
  id: 42,
  name: 'alpha42',
  email: 'alpha@example.com',
  billingEmail: null,
  softLimitNano: 10 * USD,
}

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** One xgate process: mailer, alerts and flusher over a shared database and SMTP server. */
async function boot(db: SqlDb, server: TestSmtp, clock: FakeClock) {
  const log = createMemoryLogger()
  const settings = { smtp: '127.0.0.1', port: server.port, sender: 'xgate@example.com' }
  const mailer = createMailer(() => settings, log, clock, { retryBaseMs: 20 })
  cleanup.push(() => mailer.stop(2_000))
  const alerts = createAlerts({
    mailer,
    clock,
    timeZone: TZ,
    emailBalanceNano: () => 3 * USD,
  })
  const flusher = createFlusher({ db, intervalMs: 1_000, maxRows: 100, log, now: clock.now })
  flusher.register(alerts)
  alerts.restore(await createAlertsRepo(db).loadAll())
  return { alerts, mailer, flusher, log }
}

async function world() {
  const server = await startSmtp()
  cleanup.push(() => server.stop())
  const db = (await openTestStore()).sql
  const rows = () => createAlertsRepo(db).loadAll()
  return { server, db, rows, clock: createFakeClock(Date.UTC(2026, 10, 10, 9, 0, 0)) }
}

describe('alert state across a restart', () => {
  test('SoftLimit and low-balance state survive: no duplicate mail after the restart', async () => {
    const { server, db, rows, clock } = await world()
    const first = await boot(db, server, clock)
    first.alerts.onSpend(ACCOUNT, 10 * USD, 2 * USD)
    expect(first.alerts.pending()).toBe(1)
    expect(await first.flusher.flushNow()).toBe(1)
    expect(await rows()).toEqual([{ accountId: 42, softLimitMonth: '2026-11', lowBalance: true }])
    await first.mailer.flush(10_000)
    expect(server.received.length).toBe(2)

    clock.advance(3_600_000)
    const second = await boot(db, server, clock)
    expect(second.alerts.size).toBe(1)
    for (let i = 0; i < 20; i++) second.alerts.onSpend(ACCOUNT, 12 * USD, 1 * USD)
    await second.mailer.flush(10_000)
    expect(server.received.length).toBe(2)
    expect(second.alerts.pending()).toBe(0)

    // Next month the SoftLimit mail is due again; the balance is still low, so no new low mail.
    clock.set(Date.UTC(2026, 11, 2, 9, 0, 0))
    second.alerts.onSpend(ACCOUNT, 10 * USD, 1 * USD)
    await second.mailer.flush(10_000)
    expect(server.received.length).toBe(3)
    expect(server.received[2]!.subject).toContain('2026-12')
    await second.flusher.flushNow()
    expect(await rows()).toEqual([{ accountId: 42, softLimitMonth: '2026-12', lowBalance: true }])
  })

  test('a top-up cleared before the restart re-arms the low-balance mail after it', async () => {
    const { server, db, rows, clock } = await world()
    const none = { ...ACCOUNT, softLimitNano: 0 }
    const first = await boot(db, server, clock)
    first.alerts.onSpend(none, 1 * USD, 1 * USD)
    await first.flusher.flushNow()
    first.alerts.onBalance(none, 50 * USD)
    await first.flusher.flushNow()
    // Nothing left to remember: the row is gone from the table and the entry from memory.
    expect(await rows()).toEqual([])
    expect(first.alerts.size).toBe(0)

    const second = await boot(db, server, clock)
    second.alerts.onSpend(none, 2 * USD, 1 * USD)
    await first.mailer.flush(10_000)
    await second.mailer.flush(10_000)
    expect(server.received.length).toBe(2)
  })

  test('a failed flush hands the rows back; the next flush writes them', async () => {
    const { server, db, rows, clock } = await world()
    const p = await boot(db, server, clock)
    p.alerts.onSpend(ACCOUNT, 10 * USD, 50 * USD)
    await db.exec('ALTER TABLE alert_state RENAME TO alert_state_away')
    expect(await p.flusher.flushNow()).toBe(0)
    expect(p.flusher.stats().failures).toBe(1)
    expect(p.alerts.pending()).toBe(1)
    await db.exec('ALTER TABLE alert_state_away RENAME TO alert_state')
    expect(await p.flusher.flushNow()).toBe(1)
    expect(await rows()).toEqual([{ accountId: 42, softLimitMonth: '2026-11', lowBalance: false }])
  })

  test('forget() deletes the row of a deleted account, so a reused id starts clean', async () => {
    const { server, db, rows, clock } = await world()
    const p = await boot(db, server, clock)
    p.alerts.onSpend(ACCOUNT, 10 * USD, 1 * USD)
    await p.flusher.flushNow()
    expect((await rows()).length).toBe(1)
    p.alerts.forget(42)
    await p.flusher.flushNow()
    expect(await rows()).toEqual([])
    p.alerts.onSpend({ ...ACCOUNT, name: 'beta42' }, 10 * USD, 50 * USD)
    await p.mailer.flush(10_000)
    expect(server.received.map((m) => m.subject.includes('beta42'))).toEqual([false, false, true])
  })

  test('the upsert replaces an existing row in place', async () => {
    const { db, rows } = await world()
    const repo = createAlertsRepo(db)
    await repo.save([{ accountId: 5, softLimitMonth: '2026-10', lowBalance: true }])
    await repo.save([{ accountId: 5, softLimitMonth: '2026-11', lowBalance: false }])
    await repo.save([{ accountId: 6, softLimitMonth: null, lowBalance: true }])
    expect((await rows()).sort((a, b) => a.accountId - b.accountId)).toEqual([
      { accountId: 5, softLimitMonth: '2026-11', lowBalance: false },
      { accountId: 6, softLimitMonth: null, lowBalance: true },
    ])
  })
})
