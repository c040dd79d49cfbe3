// Alert decisions end to end: onSpend / onBalance → mailer → a real SMTP server on 127.0.0.1.
// SoftLimit once per local month, low balance once per crossing, BillingEmail first.
import { Database } from 'bun:sqlite'
import { afterEach, describe, expect, test } from 'bun:test'
import { createMailer, type MailSettings } from '../../src/alerts/mailer'
import { createAlertsRepo } from '../../src/alerts/repo'
import { createAlerts, type AlertAccount } from '../../src/alerts/service'
import { migrate } from '../../src/db/migrations'
import { createFakeClock, type FakeClock } from '../../src/shared/clock'
import { createMemoryLogger } from '../../src/shared/log'
import { NANO_PER_USD } from '../../src/shared/money'
import { startSmtp, type TestSmtp } from './mailbox'

const USD = NANO_PER_USD
const TZ = 'Asia/Shanghai'
const NOV_15 = Date.UTC(2026, 10, 15, 12, 0, 0)
const ACCOUNT: AlertAccount = {
  id: 42,
  name: 'alpha42',
  email: 'alpha@example.com',
  billingEmail: 'billing@example.com',
  softLimitNano: 10 * USD,
}

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function setup(opts: { smtp?: boolean; clock?: FakeClock } = {}) {
  let server: TestSmtp | null = null
  if (opts.smtp !== false) {
    const s = await startSmtp()
    cleanup.push(() => s.stop())
    server = s
  }
  const settings: MailSettings = server
    ? { smtp: '127.0.0.1', port: server.port, sender: 'xgate@example.com' }
    : {}
  const log = createMemoryLogger()
  const clock = opts.clock ?? createFakeClock(NOV_15)
  const mailer = createMailer(() => settings, log, clock, { retryBaseMs: 20 })
  cleanup.push(() => mailer.stop(2_000))
  const alerts = createAlerts({
    mailer,
    clock,
    timeZone: TZ,
    emailBalanceNano: () => 3 * USD,
  })
  const received = () => server?.received ?? []
  return { server, received, log, clock, mailer, alerts }
}

describe('SoftLimit alert', () => {
  test('one mail per month however many calls pass the limit; again next month', async () => {
    const { alerts, mailer, clock, received } = await setup()
    alerts.onSpend(ACCOUNT, 9 * USD, 50 * USD)
    for (let i = 0; i < 100; i++) alerts.onSpend(ACCOUNT, 10 * USD + i * 50_000_000, 50 * USD)
    await mailer.flush(10_000)
    expect(received().length).toBe(1)
    const mail = received()[0]!
    expect(mail.rcptTo).toEqual(['billing@example.com'])
    expect(mail.subject).toContain('alpha42')
    expect(mail.subject).toContain('2026-11')
    expect(mail.text).toContain('$10.00')
    expect(mail.text).toContain('2026-11')

    clock.set(Date.UTC(2026, 11, 3, 12, 0, 0))
    for (let i = 0; i < 100; i++) alerts.onSpend(ACCOUNT, 11 * USD, 50 * USD)
    await mailer.flush(10_000)
    expect(received().map((m) => m.subject.match(/\d{4}-\d{2}/)?.[0])).toEqual([
      '2026-11',
      '2026-12',
    ])
    expect(received()[1]!.text).toContain('$11.00')
  })

  test('the month is the month in TZ, not in UTC', async () => {
    const { alerts, mailer, clock, received } = await setup()
    alerts.onSpend(ACCOUNT, 10 * USD, 50 * USD)
    // 30 Nov 17:00 UTC is already 1 Dec 01:00 in Shanghai: a new month there.
    clock.set(Date.UTC(2026, 10, 30, 17, 0, 0))
    alerts.onSpend(ACCOUNT, 10 * USD, 50 * USD)
    await mailer.flush(10_000)
    expect(received().length).toBe(2)
    expect(received()[1]!.subject).toContain('2026-12')
  })

  test('no mail under the limit, and none when SoftLimit is 0', async () => {
    const { alerts, mailer, received } = await setup()
    alerts.onSpend(ACCOUNT, 10 * USD - 1, 50 * USD)
    alerts.onSpend({ ...ACCOUNT, id: 43, softLimitNano: 0 }, 1_000 * USD, 50 * USD)
    await mailer.flush(10_000)
    expect(received().length).toBe(0)
    expect(alerts.pending()).toBe(0)
  })

  test('BillingEmail is preferred; Email when there is none', async () => {
    const { alerts, mailer, received } = await setup()
    alerts.onSpend(ACCOUNT, 10 * USD, 50 * USD)
    alerts.onSpend(
      { ...ACCOUNT, id: 7, billingEmail: null, email: 'b7@example.com' },
      10 * USD,
      50 * USD,
    )
    alerts.onSpend(
      { ...ACCOUNT, id: 8, billingEmail: '', email: 'b8@example.com' },
      10 * USD,
      50 * USD,
    )
    await mailer.flush(10_000)
    expect(received().map((m) => m.rcptTo[0])).toEqual([
      'billing@example.com',
      'b7@example.com',
      'b8@example.com',
    ])
  })
})

describe('low-balance alert', () => {
  test('once per crossing: down, down again → 1 mail; up, then down → 2 mails', async () => {
    const { alerts, mailer, received } = await setup()
    const none = { ...ACCOUNT, softLimitNano: 0 }
    alerts.onSpend(none, 1 * USD, 4 * USD)
    alerts.onSpend(none, 2 * USD, 2_999_999_999)
    alerts.onSpend(none, 3 * USD, 1 * USD)
    await mailer.flush(10_000)
    expect(received().length).toBe(1)
    // Rounded down: a balance a nano under $3 never reads as $3.00.
    expect(received()[0]!.text).toContain('$2.99')
    expect(received()[0]!.text).toContain('$3.00')

    alerts.onBalance(none, 20 * USD)
    alerts.onSpend(none, 4 * USD, 19 * USD)
    alerts.onSpend(none, 5 * USD, 2 * USD)
    alerts.onSpend(none, 6 * USD, 1 * USD)
    await mailer.flush(10_000)
    expect(received().length).toBe(2)
    expect(received()[1]!.subject).toContain('$2.00')
  })

  test('a top-up seen by onSpend re-arms it too; an unlimited (root) balance never mails', async () => {
    const { alerts, mailer, received } = await setup()
    const none = { ...ACCOUNT, softLimitNano: 0 }
    alerts.onBalance(none, 1 * USD)
    alerts.onSpend(none, 1 * USD, 3 * USD)
    alerts.onSpend(none, 2 * USD, 2 * USD)
    alerts.onSpend({ ...none, id: 1, name: 'root' }, 2 * USD, Infinity)
    await mailer.flush(10_000)
    expect(received().length).toBe(2)
  })

  test('SoftLimit and low balance on one call send two mails, each once', async () => {
    const { alerts, mailer, received } = await setup()
    for (let i = 0; i < 5; i++) alerts.onSpend(ACCOUNT, 12 * USD, 1 * USD)
    await mailer.flush(10_000)
    expect(received().length).toBe(2)
    expect(received().some((m) => /soft limit/.test(m.subject))).toBe(true)
    expect(received().some((m) => /balance is low/.test(m.subject))).toBe(true)
  })
})

describe('without SMTP', () => {
  test('alerts become log lines with their text; nothing crashes', async () => {
    const { alerts, mailer, log } = await setup({ smtp: false })
    alerts.onSpend(ACCOUNT, 10 * USD, 1 * USD)
    alerts.onSpend(ACCOUNT, 11 * USD, 1 * USD)
    expect(await mailer.flush(100)).toBe(true)
    const lines = log.lines.filter((l) => l.msg === 'alert')
    expect(lines.length).toBe(2)
    expect(lines.map((l) => l.to)).toEqual(['billing@example.com', 'billing@example.com'])
    expect(String(lines[0]!.text)).toContain('alpha42')
    expect(mailer.counters()).toMatchObject({ sent: 0, logged: 2 })
  })
})

describe('call path', () => {
  test('onSpend is synchronous and never awaits the network', async () => {
    const { alerts, mailer, server, received } = await setup()
    const returned: unknown = alerts.onSpend(ACCOUNT, 10 * USD, 50 * USD)
    expect(returned).toBeUndefined()
    expect(server!.connections()).toBe(0)
    expect(mailer.pending()).toBe(1)
    await mailer.flush(10_000)
    expect(received().length).toBe(1)
  })
})
