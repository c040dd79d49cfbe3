// A real PostgreSQL server for tests (Debian's `postgresql` package): initdb into a temporary
// folder as the `postgres` user (initdb and postgres refuse root), pg_ctl on a free loopback port,
// trust authentication for one superuser, stopped (and the folder removed) at the end. Each test
// gets a database of its own, made from a migrated template in a few milliseconds.
import { SQL } from 'bun'
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports'

export type PgServer = {
  /** postgres://xgate@127.0.0.1:port/<db> */
  url(db: string): string
  /** A fresh database (a copy of the migrated template when there is one, unless `empty`); its URL. */
  createDatabase(prefix?: string, opts?: { empty?: boolean }): Promise<string>
  /** Stops the server as `kill -9` would, or cleanly; the data folder stays until stop(). */
  kill(): Promise<void>
  /** Starts it again on the same port and data folder (after kill). */
  restart(): Promise<void>
  stop(): Promise<void>
  readonly port: number
  readonly dir: string
}

/** The newest installed server's binaries (Debian: /usr/lib/postgresql/<major>/bin). */
export function pgBin(): string | null {
  const base = '/usr/lib/postgresql'
  if (!existsSync(base)) return null
  const majors = readdirSync(base)
    .filter((d) => existsSync(join(base, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))
  return majors.length ? join(base, majors[0]!, 'bin') : null
}

const asRoot = process.getuid?.() === 0

/** Runs a server binary, as `postgres` when this process is root. */
function run(args: string[], opts: { quiet?: boolean } = {}) {
  const cmd = asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args
  const r = Bun.spawnSync(cmd, { stdout: opts.quiet ? 'ignore' : 'pipe', stderr: 'pipe' })
  if (r.exitCode !== 0) {
    throw new Error(`${args[0]} failed (${r.exitCode}): ${r.stderr.toString().trim()}`)
  }
}

let seq = 0

/**
 * `durable`: the server's crash safety on (fsync, synchronous commit), for tests that stop it as a
 * crash would; the default trades it for speed, since a test's database never outlives the run.
 */
export async function startPostgres(opts: { durable?: boolean } = {}): Promise<PgServer> {
  const bin = pgBin()
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install -y postgresql)')
  const dir = mkdtempSync(join(tmpdir(), 'xgate-pg-'))
  chmodSync(dir, 0o777)
  const data = join(dir, 'data')
  if (asRoot) Bun.spawnSync(['chown', 'postgres', dir])
  run([join(bin, 'initdb'), '-D', data, '-A', 'trust', '-U', 'xgate', '--no-sync', '-E', 'UTF8'], { quiet: true })
  const port = await freePort()
  const start = () =>
    run(
      [
        join(bin, 'pg_ctl'), '-D', data, '-w', '-l', join(dir, 'server.log'), '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=1000${opts.durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off'}`,
        'start',
      ],
      { quiet: true },
    )
  start()
  const url = (db: string) => `postgres://xgate@127.0.0.1:${port}/${db}`
  const admin = () => new SQL({ url: url('postgres'), max: 1 })
  let template: string | null = null
  const server: PgServer = {
    port,
    dir,
    url,
    async createDatabase(prefix = 't', opts: { empty?: boolean } = {}) {
      const name = `${prefix}_${process.pid}_${++seq}`
      const sql = admin()
      try {
        const from = template && !opts.empty ? ` TEMPLATE ${template}` : ''
        await sql.unsafe(`CREATE DATABASE ${name}${from}`)
      } finally {
        await sql.close()
      }
      return url(name)
    },
    async kill() {
      run([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'], { quiet: true })
    },
    async restart() {
      start()
    },
    async stop() {
      try {
        run([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'], { quiet: true })
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
  /** Marks a migrated database as the template of the next ones. */
  ;(server as PgServer & { useTemplate(name: string): void }).useTemplate = (name: string) => {
    template = name
  }
  return server
}
