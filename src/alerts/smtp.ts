// SMTP settings of the alert mailer (EMAIL_* and XAI_MAIL) and the one nodemailer transport built
// from them, rebuilt only when the settings change.
import type { Transporter } from 'nodemailer'

/** SMTP settings, read anew on every send because /x-config can change them at run time. */
export type MailSettings = {
  smtp?: string
  port?: number
  user?: string
  pass?: string
  sender?: string
  /** true: TLS from the first byte (port 465 style); otherwise STARTTLS when the server offers it. */
  tls?: boolean
  /** XAI_MAIL: the operator's copy of every alert, sent as Bcc. */
  bcc?: string
}

/** Maps the EMAIL_* and XAI_MAIL settings (environment, config file or /x-config) to MailSettings. */
export function mailSettingsFrom(c: {
  EMAIL_SMTP?: string
  EMAIL_PORT?: number
  EMAIL_AUTH?: string
  EMAIL_PASS?: string
  EMAIL_SENDER?: string
  EMAIL_TLS?: boolean
  XAI_MAIL?: string
}): MailSettings {
  return {
    smtp: c.EMAIL_SMTP || undefined,
    port: c.EMAIL_PORT,
    user: c.EMAIL_AUTH || undefined,
    pass: c.EMAIL_PASS,
    sender: c.EMAIL_SENDER || undefined,
    tls: c.EMAIL_TLS,
    bcc: c.XAI_MAIL || undefined,
  }
}

/** EMAIL_SENDER, else the login when it is an address, else a local placeholder. */
export function senderOf(s: MailSettings): string {
  return s.sender || (s.user?.includes('@') ? s.user : 'xgate@localhost')
}

export type TransportCache = {
  get(s: MailSettings): Promise<Transporter>
  close(): void
}

/**
 * Keeps one transport, keyed by the connection settings. nodemailer is loaded with the first
 * transport: a gateway that never mails never holds it in memory (about 10 MB). The key holds the
 * password only in memory, as the settings do. Callers send one mail at a time, so closing the
 * previous transport on a change never cuts a send short.
 */
export function createTransportCache(timeoutMs: number): TransportCache {
  let cached: { key: string; transport: Transporter } | null = null
  return {
    async get(s) {
      const key = JSON.stringify([s.smtp, s.port, s.user, s.pass, s.tls])
      if (cached?.key === key) return cached.transport
      const nodemailer = (await import('nodemailer')).default
      if (cached?.key === key) return cached.transport
      cached?.transport.close()
      const transport = nodemailer.createTransport({
        host: s.smtp,
        port: s.port,
        secure: s.tls ?? s.port === 465,
        auth: s.user ? { user: s.user, pass: s.pass ?? '' } : undefined,
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: 3 * timeoutMs,
      })
      cached = { key, transport }
      return transport
    },
    close() {
      cached?.transport.close()
      cached = null
    },
  }
}
