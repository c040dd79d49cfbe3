// A real SMTP server (the smtp-server package) on 127.0.0.1 for the alert tests: it keeps every
// message it accepts and can turn away the first tries with a temporary error.
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export type Received = {
  from: string
  /** Envelope recipients: To and Bcc alike. */
  rcptTo: string[]
  headers: string
  subject: string
  text: string
}

export type TestSmtp = {
  port: number
  received: Received[]
  /** Connections opened by clients so far. */
  connections: () => number
  /** Tries turned away with 451 so far. */
  rejected: () => number
  stop(): Promise<void>
}

export type TestSmtpOptions = {
  /** 0 picks a free port; pass a port to come back on the one a test saw refused. */
  port?: number
  /** Answer MAIL FROM of the first N tries with 451 (a temporary failure). */
  rejectFirst?: number
  /** When set, AUTH is required and must match. */
  user?: string
  pass?: string
}

function decodeQuotedPrintable(s: string): string {
  const bytes = s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
  return Buffer.from(bytes, 'latin1').toString('utf8')
}

function parse(raw: string, from: string, rcptTo: string[]): Received {
  const split = raw.indexOf('\r\n\r\n')
  const headers = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ')
  const body = raw.slice(split + 4)
  const subject = /^Subject: (.*)$/im.exec(headers)?.[1] ?? ''
  const qp = /^Content-Transfer-Encoding: quoted-printable/im.test(headers)
  return { from, rcptTo, headers, subject, text: qp ? decodeQuotedPrintable(body) : body }
}

export async function startSmtp(opts: TestSmtpOptions = {}): Promise<TestSmtp> {
  const received: Received[] = []
  let connections = 0
  let rejected = 0
  const server = new SMTPServer({
    secure: false,
    disabledCommands: opts.user ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !opts.user,
    logger: false,
    onConnect(_session, callback) {
      connections++
      callback()
    },
    onAuth(auth, _session, callback) {
      if (auth.username === opts.user && auth.password === opts.pass) {
        return callback(null, { user: auth.username })
      }
      callback(new Error('Invalid username or password'))
    },
    onMailFrom(_address, _session, callback) {
      if (rejected < (opts.rejectFirst ?? 0)) {
        rejected++
        return callback(Object.assign(new Error('Try again later'), { responseCode: 451 }))
      }
      callback()
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (b: Buffer) => chunks.push(b))
      stream.on('end', () => {
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
        const to = session.envelope.rcptTo.map((a) => a.address)
        received.push(parse(Buffer.concat(chunks).toString('latin1'), from, to))
        callback()
      })
    },
  })
  const listener = await new Promise<ReturnType<SMTPServer['listen']>>((resolve, reject) => {
    server.once('error', reject)
    const l = server.listen(opts.port ?? 0, '127.0.0.1', () => resolve(l))
  })
  return {
    port: (listener.address() as AddressInfo).port,
    received,
    connections: () => connections,
    rejected: () => rejected,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** A port nothing listens on (it was free a moment ago): connections to it are refused. */
export async function closedPort(): Promise<number> {
  const s = await startSmtp()
  await s.stop()
  return s.port
}

/** Polls until `check` is true; fails with `what` after `ms`. Bounds a wait, asserts no timing. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
