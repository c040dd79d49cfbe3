// The PostgreSQL side of the benchmark scripts: which engine a run measures (`--engine` or
// XGATE_BENCH_DB, SQLite by default), a real server from test/helpers/postgres.ts with its crash
// safety on (fsync and synchronous commit, as a deployment runs it), and the CPU its processes use.
import { SQL } from 'bun'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pgBin, startPostgres, type PgServer } from '../test/helpers/postgres'

export type Engine = 'sqlite' | 'postgres'

/** The engine named by `--engine X` in argv, else XGATE_BENCH_DB, else sqlite. */
export function engineOf(argv: readonly string[]): Engine {
  const i = argv.indexOf('--engine')
  const v = i >= 0 ? argv[i + 1] : (process.env.XGATE_BENCH_DB ?? 'sqlite')
  if (v !== 'sqlite' && v !== 'postgres') {
    throw new Error(`--engine: expected sqlite or postgres, got ${JSON.stringify(v)}`)
  }
  return v
}

/** argv without `--engine` and its value. */
export function withoutEngine(argv: readonly string[]): string[] {
  const i = argv.indexOf('--engine')
  return i < 0 ? [...argv] : [...argv.slice(0, i), ...argv.slice(i + 2)]
}

/** Fields of /proc/PID/stat after the command name (index 11 utime … 14 cstime, in ticks). */
function statOf(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  } catch {
    return null
  }
}

export type BenchPostgres = {
  server: PgServer
  /** A fresh empty database on the server (the gateway migrates it); its URL. */
  database(prefix: string): Promise<string>
  /** CPU of the server so far, in ms: the postmaster, its live backends, and those it reaped. */
  cpuMs(): number
  /** Version and the settings that decide write cost, as one line. */
  describe(): Promise<string>
  stop(): Promise<void>
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  const server = await startPostgres({ durable: true })
  const pid = Number(
    readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
  )
  // A run that throws still stops its server (synchronously: the process is ending).
  const onExit = () => {
    const as = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []
    Bun.spawnSync([
      ...as,
      join(pgBin()!, 'pg_ctl'),
      '-D',
      join(server.dir, 'data'),
      '-m',
      'immediate',
      'stop',
    ])
    rmSync(server.dir, { recursive: true, force: true })
  }
  process.once('exit', onExit)
  const ticks = (f: string[] | null, from: number, to: number) => {
    let n = 0
    for (let i = from; i <= to; i++) n += Number(f?.[i] ?? 0)
    return n
  }
  return {
    server,
    database: (prefix) => server.createDatabase(prefix),
    cpuMs() {
      // Reaped children's time is in the postmaster's cutime/cstime; live ones are counted apiece.
      let n = ticks(statOf(pid), 11, 14)
      for (const d of readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue
        const f = statOf(Number(d))
        if (f && Number(f[1]) === pid) n += ticks(f, 11, 12)
      }
      return n * 10
    },
    async describe() {
      const sql = new SQL({ url: server.url('postgres'), max: 1 })
      try {
        const names = [
          'server_version',
          'fsync',
          'synchronous_commit',
          'shared_buffers',
          'work_mem',
        ]
        const out: string[] = []
        for (const n of names) {
          const [row] = (await sql.unsafe(`SHOW ${n}`)) as Array<Record<string, string>>
          out.push(`${n}=${row![n]}`)
        }
        return out.join(', ')
      } finally {
        await sql.close()
      }
    },
    async stop() {
      process.off('exit', onExit)
      await server.stop()
    },
  }
}
