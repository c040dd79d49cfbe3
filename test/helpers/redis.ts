// A real redis-server for tests (Debian's `redis-server` package): started on a free loopback port
// in a temporary folder with persistence off, ready once it answers PING; kill() and restart() keep
// the port, so outage tests can take it away and bring it back; stop() removes the folder.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { freePort } from './ports'

export type RedisServer = {
  /** redis://127.0.0.1:port */
  readonly url: string
  readonly port: number
  readonly dir: string
  /** Stops the server as `kill -9` would; the port stays reserved for restart(). */
  kill(): Promise<void>
  /** Starts it again on the same port (empty: persistence is off). */
  restart(): Promise<void>
  /** SIGSTOP: the server keeps its connections but answers nothing, as a stuck host would. */
  freeze(): void
  /** SIGCONT after freeze(). */
  thaw(): void
  stop(): Promise<void>
}

const READY_MS = 5_000

/** Resolves once the server on `port` answers PING (a raw RESP exchange, no client library). */
async function waitForPing(port: number, proc: Subprocess): Promise<void> {
  const deadline = Date.now() + READY_MS
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode})`)
    const ok = await new Promise<boolean>((resolve) => {
      let got = ''
      Bun.connect({
        hostname: '127.0.0.1',
        port,
        socket: {
          open: (s) => void s.write('PING\r\n'),
          data: (s, d) => {
            got += d.toString()
            if (got.includes('\r\n')) {
              s.end()
              resolve(got.startsWith('+PONG'))
            }
          },
          error: () => resolve(false),
          connectError: () => resolve(false),
          close: () => resolve(got.startsWith('+PONG')),
        },
      }).catch(() => resolve(false))
    })
    if (ok) return
    await Bun.sleep(20)
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${READY_MS} ms`)
}

export async function startRedis(): Promise<RedisServer> {
  if (!Bun.which('redis-server')) {
    throw new Error('redis-server is not installed (apt-get install -y redis-server)')
  }
  const dir = mkdtempSync(join(tmpdir(), 'xgate-redis-'))
  const port = await freePort()
  let proc: Subprocess | null = null
  const start = async () => {
    proc = Bun.spawn(
      [
        'redis-server',
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--logfile',
        join(dir, 'redis.log'),
      ],
      { stdout: 'ignore', stderr: 'ignore' },
    )
    await waitForPing(port, proc)
  }
  const halt = async () => {
    const p = proc
    proc = null
    if (!p || p.exitCode !== null) return
    p.kill('SIGKILL')
    await p.exited
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill: halt,
    freeze: () => void proc?.kill('SIGSTOP'),
    thaw: () => void proc?.kill('SIGCONT'),
    restart: async () => {
      await halt()
      await start()
    },
    async stop() {
      await halt()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
