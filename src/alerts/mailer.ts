// Alert e-mail delivery off the request path: a bounded queue drained by one background worker
// that sends over SMTP with retries and exponential backoff. Without EMAIL_SMTP alerts are logged.
import type { Clock } from '../shared/clock'
import type { Logger } from '../shared/log'
import { createTransportCache, senderOf, type MailSettings } from './smtp'

export { mailSettingsFrom, type MailSettings } from './smtp'

export type AlertMail = { to: string; subject: string; text: string }

export type MailerCounters = {
  sent: number
  /** Mails given up: a permanent SMTP rejection or every try used. */
  failed: number
  /** Tries that failed and were scheduled again. */
  retried: number
  /** Mails pushed out of a full queue or left over at stop; each is logged with its text. */
  dropped: number
  /** Alerts written to the log because no SMTP server is configured. */
  logged: number
  queued: number
  lastSentAtMs: number
  lastErrorAtMs: number
}

export type MailerOptions = {
  /** Tries per mail, the first included. */
  maxTries?: number
  /** First backoff; doubles per failed try (1 s, 2 s, 4 s …) up to retryMaxMs. */
  retryBaseMs?: number
  retryMaxMs?: number
  maxQueue?: number
  /** Connect and greeting limit per try; an idle socket gets three times this. */
  timeoutMs?: number
}

export interface Mailer {
  /** Queues a mail and returns at once; never throws, never waits for the network. */
  enqueue(mail: AlertMail): void
  /** Mails queued or being sent. */
  pending(): number
  /** Waits until the queue is empty and nothing is in flight, at most timeoutMs; true if empty. */
  flush(timeoutMs?: number): Promise<boolean>
  /** flush(timeoutMs), then aborts what is left (logging each dropped alert) and closes SMTP. */
  stop(timeoutMs?: number): Promise<void>
  counters(): MailerCounters
}

export function createMailer(
  settings: () => MailSettings,
  log: Logger,
  clock: Clock,
  opts: MailerOptions = {},
): Mailer {
  const maxTries = Math.max(1, opts.maxTries ?? 5)
  const retryBaseMs = opts.retryBaseMs ?? 1_000
  const retryMaxMs = opts.retryMaxMs ?? 60_000
  const maxQueue = Math.max(1, opts.maxQueue ?? 1_000)
  const timeoutMs = opts.timeoutMs ?? 10_000
  const c: MailerCounters = {
    sent: 0,
    failed: 0,
    retried: 0,
    dropped: 0,
    logged: 0,
    queued: 0,
    lastSentAtMs: 0,
    lastErrorAtMs: 0,
  }
  const queue: AlertMail[] = []
  let working = false
  let busy = false
  let stopped = false
  let abort: AbortController | null = null
  let wake: (() => void) | null = null
  let idle: Array<() => void> = []
  const transports = createTransportCache(timeoutMs)

  const toLog = (msg: string, mail: AlertMail, why?: string) =>
    log.warn(msg, { to: mail.to, subject: mail.subject, text: mail.text, ...(why ? { why } : {}) })

  const drop = (mail: AlertMail, why: string) => {
    c.dropped++
    toLog('alert mail dropped', mail, why)
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        wake = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      wake = done
    })

  /** One mail, every try; resolves when it is sent, given up, logged or dropped. */
  const deliver = async (mail: AlertMail) => {
    for (let attempt = 1; ; attempt++) {
      const s = settings()
      if (!s.smtp) {
        c.logged++
        return toLog('alert', mail)
      }
      abort = new AbortController()
      try {
        const transport = await transports.get(s)
        await transport.sendMail({ from: senderOf(s), ...mail, bcc: s.bcc, signal: abort.signal })
        c.sent++
        c.lastSentAtMs = clock.now()
        return
      } catch (e) {
        const err = e as Error & { code?: string; responseCode?: number; permanent?: boolean }
        c.lastErrorAtMs = clock.now()
        if (stopped) return drop(mail, 'mailer stopped')
        const error = {
          to: mail.to,
          subject: mail.subject,
          attempt,
          error: err.message,
          code: err.code,
        }
        if (err.permanent === true || attempt >= maxTries) {
          c.failed++
          log.error('alert mail failed', { ...error, text: mail.text })
          return
        }
        c.retried++
        const waitMs = Math.min(retryMaxMs, retryBaseMs * 2 ** (attempt - 1))
        log.warn('alert mail will be retried', { ...error, waitMs })
        await sleep(waitMs)
        if (stopped) return drop(mail, 'mailer stopped')
      } finally {
        abort = null
      }
    }
  }

  const work = async () => {
    while (queue.length > 0 && !stopped) {
      const mail = queue.shift()!
      busy = true
      try {
        await deliver(mail)
      } catch (e) {
        log.error('alert mail worker', { error: (e as Error).message })
      }
      busy = false
    }
    working = false
    const waiting = idle
    idle = []
    for (const resolve of waiting) resolve()
  }

  const pending = () => queue.length + (busy ? 1 : 0)

  const flush = (ms = 10_000): Promise<boolean> => {
    if (pending() === 0) return Promise.resolve(true)
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        idle = idle.filter((f) => f !== done)
        resolve(pending() === 0)
      }
      const timer = setTimeout(done, ms)
      idle.push(done)
    })
  }

  return {
    enqueue(mail) {
      if (stopped) return drop(mail, 'mailer stopped')
      if (!settings().smtp) {
        c.logged++
        return toLog('alert', mail)
      }
      if (queue.length >= maxQueue) drop(queue.shift()!, 'queue full')
      queue.push(mail)
      if (!working) {
        working = true
        // Started after the caller's synchronous code: nothing touches the network before then.
        queueMicrotask(() => void work())
      }
    },
    pending,
    flush,
    async stop(ms = 10_000) {
      await flush(ms)
      stopped = true
      abort?.abort()
      wake?.()
      await flush(Math.min(ms, 1_000))
      for (const mail of queue.splice(0)) drop(mail, 'mailer stopped')
      transports.close()
    },
    counters: () => ({ ...c, queued: queue.length }),
  }
}
