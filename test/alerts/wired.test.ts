// Alerts wired into a running gateway: proxied calls crossing SoftLimit mail BillingEmail once a
// month through a real SMTP server, the low-balance mail goes once per crossing and is re-armed
// by a top-up, the state survives a restart, and without EMAIL_SMTP the alert is a log line.
import { afterEach, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { createFakeClock } from '../../src/shared/clock'
import type { Gateway } from '../../src/server'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { call, startTestGateway } from '../helpers/gateway'
import { addUnder, keysEnv, restartOn, statuses } from '../limits/gatekit'
import { startSmtp, waitFor } from './mailbox'

const cleanup: Array<() => Promise<unknown> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

// gpt-4o-mini at the fake upstream's 12 + 8 tokens: 6,600 nano-USD a call.
const CALL_NANO = 6_600

async function world(extra: Record<string, string> = {}) {
  const smtp = await startSmtp()
  cleanup.push(() => smtp.stop())
  const up = await startFakeUpstream()
  cleanup.push(() => up.stop())
  const clock = createFakeClock(Date.now())
  const env = {
    ...keysEnv(up),
    EMAIL_SMTP: '127.0.0.1',
    EMAIL_PORT: String(smtp.port),
    EMAIL_SENDER: 'alerts@xgate.example',
    TZ: 'Europe/Berlin',
    ...extra,
  }
  const first = await startTestGateway(env, { clock })
  cleanup.push(() => rmSync(first.dataDir, { recursive: true, force: true }))
  let live: Gateway = first
  cleanup.push(() => live.stop())
  const restart = async () => {
    await live.stop()
    live = await restartOn(first.dataDir, env, clock)
    return live
  }
  return { smtp, up, clock, gw: first, restart }
}

describe('SoftLimit', () => {
  test('crossing it mails BillingEmail exactly once this month, also across a restart', async () => {
    const { smtp, clock, gw, restart } = await world()
    const { key } = await addUnder(gw, null, {
      name: 'softalpha',
      billingEmail: 'billing@alpha.example',
      softLimitNano: 2 * CALL_NANO,
    })
    expect(await statuses(gw, key, 4)).toEqual([200, 200, 200, 200])
    await waitFor('the soft-limit mail', () => smtp.received.length >= 1)
    expect(await gw.deps.limits.mailer.flush(5_000)).toBe(true)
    expect(smtp.received.length, JSON.stringify(smtp.received)).toBe(1)
    const mail = smtp.received[0]!
    expect(mail.rcptTo).toEqual(['billing@alpha.example'])
    expect(mail.from).toBe('alerts@xgate.example')
    expect(mail.subject).toContain('softalpha reached its monthly soft limit')

    const second = await restart()
    expect(await statuses(second, key, 2)).toEqual([200, 200])
    expect(await second.deps.limits.mailer.flush(5_000)).toBe(true)
    expect(smtp.received.length, 'no second mail after a restart').toBe(1)

    // A new local month: spend starts again and the next crossing is mailed once more.
    clock.set(second.deps.limits.monthly.calendar.month(clock.now()).endMs + 1_000)
    expect(await statuses(second, key, 3)).toEqual([200, 200, 200])
    await waitFor('the next month’s soft-limit mail', () => smtp.received.length >= 2)
    expect(await second.deps.limits.mailer.flush(5_000)).toBe(true)
    expect(smtp.received.length).toBe(2)
  })
})

describe('low balance', () => {
  test('falling under EMAIL_BALANCE mails Email once per crossing; a top-up re-arms it', async () => {
    const { smtp, gw } = await world()
    const { key, account } = await addUnder(gw, null, { name: 'lowbeta', creditUsd: 3.00001 })
    expect(await statuses(gw, key, 4)).toEqual([200, 200, 200, 200])
    await waitFor('the low-balance mail', () => smtp.received.length >= 1)
    expect(await gw.deps.limits.mailer.flush(5_000)).toBe(true)
    expect(smtp.received.length, JSON.stringify(smtp.received)).toBe(1)
    expect(smtp.received[0]!.rcptTo).toEqual(['lowbeta@example.com'])
    expect(smtp.received[0]!.subject).toContain('lowbeta balance is low')

    const put = (credit: number) =>
      call(gw, 'PUT', `/x-users/${account.id}`, {
        key: gw.rootKey,
        body: { CreditGranted: credit },
      })
    const up = await put(5)
    expect(up.status, up.text).toBe(200)
    // After an admin change the cached cards are dropped: read them again before the balance.
    const balanceNow = async () => {
      await gw.deps.billing.ledger.warm(account.id)
      return gw.deps.billing.ledger.balanceOf(account.id)
    }
    const balance = await balanceNow()
    const down = await put(-(balance - 3_000_000_000 - CALL_NANO / 2) / 1e9)
    expect(down.status, down.text).toBe(200)
    expect(await balanceNow()).toBeGreaterThan(3_000_000_000)
    expect(smtp.received.length, 'a balance still above the threshold is not mailed').toBe(1)
    expect(await statuses(gw, key, 2)).toEqual([200, 200])
    await waitFor('the second crossing’s mail', () => smtp.received.length >= 2)
    expect(await gw.deps.limits.mailer.flush(5_000)).toBe(true)
    expect(smtp.received.length).toBe(2)
  })
})

describe('SMTP settings through /x-config', () => {
  test('EMAIL_* POSTed at run time are used for the next alert', async () => {
    const smtp = await startSmtp()
    cleanup.push(() => smtp.stop())
    const up = await startFakeUpstream()
    cleanup.push(() => up.stop())
    const gw = await startTestGateway(keysEnv(up))
    cleanup.push(() => gw.close())
    const set = await call(gw, 'POST', '/x-config', {
      key: gw.rootKey,
      body: {
        EMAIL_SMTP: '127.0.0.1',
        EMAIL_PORT: smtp.port,
        EMAIL_SENDER: 'ops@xgate.example',
        XAI_MAIL: 'copy@xgate.example',
      },
    })
    expect(set.status, set.text).toBe(200)
    const { key } = await addUnder(gw, null, { name: 'livedelta', softLimitNano: 1 })
    expect(await statuses(gw, key, 2)).toEqual([200, 200])
    await waitFor('the soft-limit mail', () => smtp.received.length >= 1)
    expect(await gw.deps.limits.mailer.flush(5_000)).toBe(true)
    expect(smtp.received.length).toBe(1)
    expect(smtp.received[0]!.from).toBe('ops@xgate.example')
    expect(smtp.received[0]!.rcptTo.sort()).toEqual(['copy@xgate.example', 'livedelta@example.com'])
  })
})

describe('without SMTP', () => {
  test('the alert is a log line and nothing is sent', async () => {
    const up = await startFakeUpstream()
    cleanup.push(() => up.stop())
    const gw = await startTestGateway(keysEnv(up))
    cleanup.push(() => gw.close())
    const { key } = await addUnder(gw, null, { name: 'nosmtpgamma', softLimitNano: 1 })
    expect(await statuses(gw, key, 2)).toEqual([200, 200])
    const alerts = gw.logLines.filter((l) => l.msg === 'alert')
    expect(alerts.length, JSON.stringify(alerts)).toBe(1)
    expect(String(alerts[0]!.subject)).toContain('nosmtpgamma reached its monthly soft limit')
    expect(gw.deps.limits.mailer.counters().sent).toBe(0)
  })
})
