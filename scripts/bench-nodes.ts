// Several nodes' cost on one node (SPEC §11): the same funded account with RPM/TPM limits behind
// xgate on SQLite and behind xgate on PostgreSQL + Redis (REDIS_URL: limits, Concurrency and the
// money hold in one Redis script before the upstream call, one after), and a bare passthrough,
// measured in alternating rounds with wrk at c=1 and c=64. Counts Redis commands and round
// trips per call (INFO commandstats) and the CPU every process uses, then estimates what 4 and 16
// nodes would carry. `bun scripts/bench-nodes.ts [seconds] [rounds]`; with PROFILE_DIR set, each
// gateway leaves a CPU profile there. With PIN=1 the gateways and the passthrough run on CPU 0 and
// everything else (wrk, the fake provider, Redis, PostgreSQL) on CPU 1, as a node whose Redis and
// database run elsewhere: the throughput then measures the node alone.
import { RedisClient, spawn, type Subprocess } from 'bun'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKey } from '../src/shared/ids'
import { startBenchPostgres, type BenchPostgres } from './bench-pg'
import { cpuMs, runWrk, startProcess, writeWrkScript } from './bench-lib'

const SECONDS = Number(process.argv[2] ?? 5)
const PIN = process.env.PIN === '1'
// This script and all it starts inherit CPU 1; the servers under test are moved to CPU 0.
if (PIN) Bun.spawnSync(['taskset', '-a', '-cp', '1', String(process.pid)])
const onNodeCpu = (cmd: string[]) => (PIN ? ['taskset', '-c', '0', ...cmd] : cmd)
const ROUNDS = Number(process.argv[3] ?? 3)
const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-nodes-'))
const lua = writeWrkScript(dir)
const userKey = generateKey()
const rootKey = generateKey()
const BODY = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}'
const procs: Subprocess[] = []
const [UP, PASS, SQLITE, REDIS_GW, REDIS, PG_GW] = [18531, 18532, 18533, 18534, 18535, 18536]
const REDIS_URL = `redis://127.0.0.1:${REDIS}`
let pg: BenchPostgres | null = null

type Target = 'passthrough' | 'sqlite' | 'postgres' | 'redis'
type Sample = {
  rps1: number
  p50us1: number
  rps64: number
  cpuUs: number
  redisCpuUs: number
  pgCpuUs: number
  redisCmds: number
  roundTrips: number
}

async function startRedis(): Promise<Subprocess> {
  const p = spawn(['redis-server', '--port', String(REDIS), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdout: 'ignore',
    stderr: 'inherit',
  })
  procs.push(p)
  for (let i = 0; i < 100; i++) {
    try {
      const c = new RedisClient(REDIS_URL)
      await c.send('PING', [])
      c.close()
      return p
    } catch {
      await Bun.sleep(50)
    }
  }
  throw new Error('redis-server did not start')
}

/** Commands Redis has run, all and the script calls (each one round trip on the hot path). */
async function redisCounts(c: RedisClient): Promise<{ all: number; scripts: number }> {
  const info = String(await c.send('INFO', ['commandstats']))
  let all = 0
  let scripts = 0
  for (const m of info.matchAll(/cmdstat_([a-z|]+):calls=(\d+)/g)) {
    if (m[1] === 'info') continue
    all += Number(m[2])
    if (m[1] === 'evalsha' || m[1] === 'eval') scripts += Number(m[2])
  }
  return { all, scripts }
}

async function gateway(port: number, engine: 'sqlite' | 'postgres' | 'redis'): Promise<Subprocess> {
  const dataDir = join(dir, engine)
  mkdirSync(dataDir, { recursive: true })
  const shared: Record<string, string> =
    engine === 'redis'
      ? { DATABASE_URL: await pg!.database('bench_nodes'), REDIS_URL, NODES: '4', NODE_ID: 'bench-1' }
      : engine === 'postgres'
        ? { DATABASE_URL: await pg!.database('bench_one') }
        : {}
  const p = await startProcess(
    procs,
    `xgate (${engine})`,
    // PROFILE_DIR=…: each gateway writes a CPU profile (Markdown) there when it stops.
    onNodeCpu(
      process.env.PROFILE_DIR
        ? [process.execPath, '--cpu-prof-md', '--cpu-prof-dir', join(process.env.PROFILE_DIR, engine), 'src/main.ts', 'serve']
        : [process.execPath, 'src/main.ts', 'serve'],
    ),
    {
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      INIT_USERS: `root::root@bench.local::${rootKey},bench::bench@bench.local::${userKey}::100000`,
      INIT_KEYS: `sk-bench-upstream-key-0001::http://127.0.0.1:${UP}`,
      ...shared,
    },
    port,
  )
  // Limits on, far above what the run makes: every call reserves and settles its windows.
  const res = await fetch(`http://127.0.0.1:${port}/x-users/bench`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ RPM: 10_000_000, TPM: 1_000_000_000 }),
  })
  if (!res.ok) throw new Error(`limits for the bench account: ${res.status} ${await res.text()}`)
  return p
}

async function measure(t: Target, port: number, pid: number, redis: RedisClient, redisPid: number): Promise<Sample> {
  const key = t === 'passthrough' ? '' : userKey
  const c1 = await runWrk({ lua, port, conns: 1, seconds: SECONDS, key, body: BODY })
  const [cpu0, rc0, pg0, cmds0] = [cpuMs(pid), cpuMs(redisPid), pg!.cpuMs(), await redisCounts(redis)]
  const c64 = await runWrk({ lua, port, conns: 64, seconds: SECONDS, key, body: BODY })
  // The last flush of the run's usage is part of its cost.
  await Bun.sleep(400)
  const cmds = await redisCounts(redis)
  const n = c64.requests
  if (c1.errors + c64.errors > 0) console.error(`${t}: ${c1.errors + c64.errors} errors`)
  return {
    rps1: c1.rps,
    p50us1: c1.p50us,
    rps64: c64.rps,
    cpuUs: ((cpuMs(pid) - cpu0) * 1000) / n,
    redisCpuUs: ((cpuMs(redisPid) - rc0) * 1000) / n,
    pgCpuUs: ((pg!.cpuMs() - pg0) * 1000) / n,
    redisCmds: (cmds.all - cmds0.all) / n,
    roundTrips: (cmds.scripts - cmds0.scripts) / n,
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

try {
  pg = await startBenchPostgres()
  const redisProc = await startRedis()
  await startProcess(procs, 'upstream', [process.execPath, 'scripts/bench-upstream.ts'], { PORT: String(UP) }, UP)
  const pass = await startProcess(
    procs,
    'passthrough',
    onNodeCpu([process.execPath, 'scripts/passthrough.ts']),
    { PORT: String(PASS), UPSTREAM: `http://127.0.0.1:${UP}` },
    PASS,
  )
  const gwSqlite = await gateway(SQLITE, 'sqlite')
  const gwPg = await gateway(PG_GW, 'postgres')
  const gwRedis = await gateway(REDIS_GW, 'redis')
  const redis = new RedisClient(REDIS_URL)
  const targets: Array<[Target, number, number]> = [
    ['passthrough', PASS, pass.pid],
    ['sqlite', SQLITE, gwSqlite.pid],
    ['postgres', PG_GW, gwPg.pid],
    ['redis', REDIS_GW, gwRedis.pid],
  ]
  for (const [, port] of targets) await runWrk({ lua, port, conns: 8, seconds: 2, key: userKey, body: BODY })
  const samples: Record<Target, Sample[]> = { passthrough: [], sqlite: [], postgres: [], redis: [] }
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 ? [...targets].reverse() : targets
    for (const [t, port, pid] of order) samples[t].push(await measure(t, port, pid, redis, redisProc.pid))
  }
  redis.close()

  const m = (t: Target, k: keyof Sample) => median(samples[t].map((s) => s[k]))
  const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
  console.log(`\n${ROUNDS} rounds, ${SECONDS} s per wrk run, non-stream chat completion, ${new Date().toISOString()}`)
  if (PIN) console.log('PIN=1: gateways and passthrough on CPU 0; wrk, fake provider, Redis and PostgreSQL on CPU 1')
  console.log(`PostgreSQL ${await pg.describe()}; redis-server ${(await new Response(spawn(['redis-server', '--version'], { stdout: 'pipe' }).stdout).text()).split(' ')[2]}\n`)
  console.log('| target | c=1 req/s | c=1 p50 µs | c=64 req/s | xgate CPU µs/call | Redis CPU µs/call | PostgreSQL CPU µs/call | Redis commands/call (in scripts too) | round trips/call |')
  console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: |')
  for (const t of ['passthrough', 'sqlite', 'postgres', 'redis'] as const) {
    const name = {
      passthrough: 'passthrough (20 lines)',
      sqlite: 'xgate, one node on SQLite',
      postgres: 'xgate, one node on PostgreSQL',
      redis: 'xgate, one node of several (PostgreSQL + Redis)',
    }[t]
    const rt = t === 'redis'
    const db = t === 'redis' || t === 'postgres'
    console.log(
      `| ${name} | ${f(m(t, 'rps1'))} | ${f(m(t, 'p50us1'))} | ${f(m(t, 'rps64'))} | ${f(m(t, 'cpuUs'), 1)} | ${rt ? f(m(t, 'redisCpuUs'), 1) : '—'} | ${db ? f(m(t, 'pgCpuUs'), 1) : '—'} | ${rt ? f(m(t, 'redisCmds'), 1) : '—'} | ${rt ? f(m(t, 'roundTrips'), 2) : '—'} |`,
    )
  }
  const addedP50 = m('redis', 'p50us1') - m('sqlite', 'p50us1')
  const ratio = m('redis', 'rps64') / m('sqlite', 'rps64')
  console.log(`\n- added p50 at c=1, Redis node over SQLite node: ${f(addedP50)} µs (target < 300 µs)`)
  console.log(`- c=64 throughput, Redis node / SQLite node: ${ratio.toFixed(2)} (target ≥ 0.8)`)
  console.log(`- Redis round trips per call: ${m('redis', 'roundTrips').toFixed(2)} (target ≤ 2)`)

  // Capacity: each node with 2 cores like this machine, Redis on one core, PostgreSQL on 8.
  const nodeCps = (2 * 1e6) / m('redis', 'cpuUs')
  const redisCps = 1e6 / m('redis', 'redisCpuUs')
  const pgCps = (8 * 1e6) / Math.max(0.1, m('redis', 'pgCpuUs'))
  console.log('\n| nodes (2 cores each) | nodes could carry, calls/s | Redis (1 core) carries | PostgreSQL (8 cores) carries | estimate, calls/s | bound by |')
  console.log('| --: | --: | --: | --: | --: | --- |')
  for (const n of [1, 4, 16]) {
    const parts: Array<[string, number]> = [['the nodes', n * nodeCps], ['Redis', redisCps], ['PostgreSQL', pgCps]]
    const [by, est] = parts.reduce((a, b) => (b[1] < a[1] ? b : a))
    console.log(`| ${n} | ${f(n * nodeCps)} | ${f(redisCps)} | ${f(pgCps)} | ${f(est)} | ${by} |`)
  }
} finally {
  for (const p of procs) p.kill()
  await Promise.all(procs.map((p) => p.exited))
  await pg?.stop()
  rmSync(dir, { recursive: true, force: true })
}
