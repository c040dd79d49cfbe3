// The alert mailer against a real SMTP server on 127.0.0.1: off the request path, Bcc copy,
// retries after refusals and temporary errors, log-only without SMTP, bounded queue, stop.
import { afterEach, describe, expect, test } from 'bun:test'
import { createMailer, mailSettingsFrom, type MailSettings } from '../../src/alerts/mailer'
import { createFakeClock } from '../../src/shared/clock'
import { createMemoryLogger } from '../../src/shared/log'
import { closedPort, startSmtp, waitFor, type TestSmtp } from './mailbox'

const MAIL = { to: 'owner@example.com', subject: 'xgate: test', text: 'Account alpha1 is fine.\n' }

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

function setup(settings: MailSettings, opts: Parameters<typeof createMailer>[3] = {}) {
  const log = createMemoryLogger()
  let current = settings
  const mailer = createMailer(() => current, log, createFakeClock(), { retryBaseMs: 20, ...opts })
  cleanup.push(() => mailer.stop(2_000))
  return { mailer, log, set: (s: MailSettings) => (current = s) }
}

async function smtp(opts: Parameters<typeof startSmtp>[0] = {}): Promise<TestSmtp> {
  const s = await startSmtp(opts)
  cleanup.push(() => s.stop())
  return s
}

const local = (port: number, more: MailSettings = {}): MailSettings => ({
  smtp: '127.0.0.1',
  port,
  sender: 'xgate@example.com',
  ...more,
})

describe('alert mailer', () => {
  test('enqueue returns before the server sees anything; the mail arrives afterwards', async () => {
    const server = await smtp()
    const { mailer } = setup(local(server.port))
    const returned: unknown = mailer.enqueue(MAIL)
    expect(returned).toBeUndefined()
    expect(server.connections()).toBe(0)
    expect(mailer.pending()).toBe(1)
    expect(await mailer.flush(10_000)).toBe(true)
    expect(server.received.length).toBe(1)
    const got = server.received[0]!
    expect(got.from).toBe('xgate@example.com')
    expect(got.rcptTo).toEqual(['owner@example.com'])
    expect(got.subject).toBe('xgate: test')
    expect(got.text).toContain('Account alpha1 is fine.')
    expect(mailer.counters()).toMatchObject({ sent: 1, failed: 0, retried: 0, queued: 0 })
  })

  test('XAI_MAIL gets a Bcc copy that the account owner cannot see', async () => {
    const server = await smtp()
    const { mailer } = setup(local(server.port, { bcc: 'operator@example.net' }))
    mailer.enqueue(MAIL)
    await mailer.flush(10_000)
    expect(server.received.length).toBe(1)
    expect(server.received[0]!.rcptTo.sort()).toEqual(['operator@example.net', 'owner@example.com'])
    expect(server.received[0]!.headers).not.toMatch(/^Bcc:/im)
  })

  test('a refused SMTP login is not retried; the password never reaches the log', async () => {
    const server = await smtp({ user: 'mailer', pass: 's3cret-pass' })
    const { mailer, log } = setup(
      mailSettingsFrom({
        EMAIL_SMTP: '127.0.0.1',
        EMAIL_PORT: server.port,
        EMAIL_AUTH: 'mailer',
        EMAIL_PASS: 'wrong-pass',
        EMAIL_SENDER: 'xgate@example.com',
      }),
      { maxTries: 5 },
    )
    mailer.enqueue(MAIL)
    await mailer.flush(10_000)
    expect(server.received.length).toBe(0)
    // 535 is a permanent answer: given up at once, not retried.
    expect(mailer.counters()).toMatchObject({ failed: 1, retried: 0 })
    expect(JSON.stringify(log.lines)).not.toContain('wrong-pass')
  })

  test('settings are read on every send: a corrected password is used without restart', async () => {
    const server = await smtp({ user: 'mailer', pass: 's3cret-pass' })
    const { mailer, set } = setup(local(server.port, { user: 'mailer', pass: 'bad' }), {
      maxTries: 1,
    })
    mailer.enqueue(MAIL)
    await mailer.flush(10_000)
    set(local(server.port, { user: 'mailer', pass: 's3cret-pass' }))
    mailer.enqueue(MAIL)
    await mailer.flush(10_000)
    expect(server.received.length).toBe(1)
    expect(mailer.counters()).toMatchObject({ sent: 1, failed: 1 })
  })

  test('without EMAIL_SMTP the alert is a log line: no mail, no crash', async () => {
    const { mailer, log } = setup({ user: 'mailer', pass: 'p4ss-word', bcc: 'op@example.net' })
    mailer.enqueue(MAIL)
    expect(mailer.pending()).toBe(0)
    expect(await mailer.flush(100)).toBe(true)
    const line = log.lines.find((l) => l.msg === 'alert')
    expect(line).toMatchObject({
      level: 'warn',
      to: MAIL.to,
      subject: MAIL.subject,
      text: MAIL.text,
    })
    expect(JSON.stringify(log.lines)).not.toContain('p4ss-word')
    expect(mailer.counters()).toMatchObject({ sent: 0, logged: 1 })
  })

  test('server down at first, then up on the same port: the mail arrives after retries', async () => {
    const port = await closedPort()
    const { mailer } = setup(local(port), { maxTries: 8, retryBaseMs: 50 })
    mailer.enqueue(MAIL)
    await waitFor('a failed try', () => mailer.counters().retried >= 1)
    expect(mailer.counters().sent).toBe(0)
    const server = await smtp({ port })
    expect(await mailer.flush(20_000)).toBe(true)
    expect(server.received.length).toBe(1)
    expect(mailer.counters()).toMatchObject({ sent: 1, failed: 0 })
    expect(mailer.counters().retried).toBeGreaterThanOrEqual(1)
  })

  test('temporary 451 answers are retried with backoff until the server accepts', async () => {
    const server = await smtp({ rejectFirst: 3 })
    const { mailer, log } = setup(local(server.port), { maxTries: 5 })
    mailer.enqueue(MAIL)
    expect(await mailer.flush(20_000)).toBe(true)
    expect(server.rejected()).toBe(3)
    expect(server.received.length).toBe(1)
    expect(mailer.counters()).toMatchObject({ sent: 1, retried: 3, failed: 0 })
    const waits = log.lines
      .filter((l) => l.msg === 'alert mail will be retried')
      .map((l) => l.waitMs)
    expect(waits).toEqual([20, 40, 80])
  })

  test('after maxTries the mail is given up and logged with its text', async () => {
    const server = await smtp({ rejectFirst: 10 })
    const { mailer, log } = setup(local(server.port), { maxTries: 2 })
    mailer.enqueue(MAIL)
    await mailer.flush(20_000)
    expect(server.rejected()).toBe(2)
    expect(mailer.counters()).toMatchObject({ sent: 0, retried: 1, failed: 1 })
    expect(log.lines.find((l) => l.msg === 'alert mail failed')).toMatchObject({ text: MAIL.text })
  })

  test('a full queue drops the oldest mail with a log line', async () => {
    const server = await smtp()
    const { mailer, log } = setup(local(server.port), { maxQueue: 2 })
    for (const n of [1, 2, 3, 4]) mailer.enqueue({ ...MAIL, subject: `n${n}` })
    expect(mailer.counters()).toMatchObject({ dropped: 2, queued: 2 })
    expect(log.lines.filter((l) => l.msg === 'alert mail dropped').map((l) => l.subject)).toEqual([
      'n1',
      'n2',
    ])
    await mailer.flush(10_000)
    expect(server.received.map((m) => m.subject)).toEqual(['n3', 'n4'])
  })

  test('stop() is bounded while SMTP is down; what is left is dropped and logged', async () => {
    const port = await closedPort()
    const { mailer, log } = setup(local(port), { maxTries: 20, retryBaseMs: 60_000 })
    mailer.enqueue({ ...MAIL, subject: 'first' })
    mailer.enqueue({ ...MAIL, subject: 'second' })
    await waitFor('a failed try', () => mailer.counters().retried >= 1)
    await mailer.stop(50)
    expect(mailer.pending()).toBe(0)
    expect(mailer.counters()).toMatchObject({ sent: 0, dropped: 2 })
    const dropped = log.lines.filter((l) => l.msg === 'alert mail dropped').map((l) => l.subject)
    expect(dropped.sort()).toEqual(['first', 'second'])
    mailer.enqueue(MAIL)
    expect(mailer.counters().dropped).toBe(3)
  })
})
