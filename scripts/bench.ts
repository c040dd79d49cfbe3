// Proxy benchmark: the gateway (auth, limits gate, billing on, a normal account; LOG_LEVEL=warn,
// and a second one at info for the cost of the access line) against a bare Bun.serve + fetch
// passthrough and against the fake provider called directly, with wrk at concurrency 1 and 64;
// stream time-to-first-byte; server CPU per request; RSS over a 10,000-chunk stream. Prints a
// Markdown table. `bun scripts/bench.ts [seconds] [--engine sqlite|postgres]` (or XGATE_BENCH_DB):
// on postgres the gateways keep their records in a real PostgreSQL server started for the run.
import type { Subprocess } from 'bun'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKey } from '../src/shared/ids'
import { engineOf, startBenchPostgres, withoutEngine, type BenchPostgres } from './bench-pg'
import { cpuMs, machineBusyMs, rssMb, runWrk, startProcess, writeWrkScript } from './bench-lib'

const ENGINE = engineOf(process.argv.slice(2))
const SECONDS = Number(withoutEngine(process.argv.slice(2))[0] ?? 8)
const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-'))
const userKey = generateKey()
const rootKey = generateKey()
const BODY = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}'
const STREAM_BODY =
  '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}'
const procs: Subprocess[] = []
let pg: BenchPostgres | null = null

/** CPU of this script and of the servers it started, in ms. */
function ownCpuMs(): number {
  const self = process.cpuUsage()
  const db = pg ? pg.cpuMs() : 0
  return procs.reduce((n, p) => n + cpuMs(p.pid), db + (self.user + self.system) / 1000)
}

const start = (name: string, cmd: string[], env: Record<string, string>, port: number) =>
  startProcess(procs, name, cmd, env, port)
const lua = writeWrkScript(dir)

/** `otherCores`: cores used meanwhile by processes this benchmark did not start. */
type Run = { rps: number; p50us: number; p99us: number; errors: number; otherCores: number } & {
  cpuUsPerReq?: number
  /** CPU of the PostgreSQL server per request over the run (its backends do the flushes). */
  dbCpuUsPerReq?: number
  /** Highest RSS of the server, sampled every 50 ms during the run. */
  rssMaxMb?: number
}

async function wrk(
  port: number,
  conns: number,
  key: string,
  body: string,
  pid?: number,
): Promise<Run> {
  const cpu0 = pid ? cpuMs(pid) : 0
  const db0 = pg ? pg.cpuMs() : 0
  let rssMax = 0
  const sampler = pid ? setInterval(() => (rssMax = Math.max(rssMax, rssMb(pid))), 50) : null
  const [busy0, own0, t0] = [machineBusyMs(), ownCpuMs(), performance.now()]
  const w = await runWrk({ lua, port, conns, seconds: SECONDS, key, body })
  if (sampler) clearInterval(sampler)
  const other = machineBusyMs() - busy0 - (ownCpuMs() - own0) - w.wrkMs
  const requests = w.requests
  const run: Run = {
    rps: w.rps,
    p50us: w.p50us,
    p99us: w.p99us,
    errors: w.errors,
    otherCores: Math.max(0, other / (performance.now() - t0)),
  }
  if (pid) {
    run.cpuUsPerReq = ((cpuMs(pid) - cpu0) * 1000) / requests
    run.rssMaxMb = Math.max(rssMax, rssMb(pid))
    if (pg) run.dbCpuUsPerReq = ((pg.cpuMs() - db0) * 1000) / requests
  }
  return run
}

/** Median time to the first body byte of a stream, sequential requests. */
async function ttfb(port: number, key: string, n = 300): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key}`,
        'x-bench-chunks': '20',
      },
      body: STREAM_BODY,
    })
    const reader = res.body!.getReader()
    await reader.read()
    times.push(performance.now() - t0)
    while (!(await reader.read()).done) {}
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(n / 2)]!
}

/** RSS of `pid` sampled while one 10,000-chunk stream flows through it. */
async function longStream(
  port: number,
  key: string,
  pid: number,
): Promise<{ min: number; max: number; chunks: number }> {
  const samples: number[] = []
  const timer = setInterval(() => samples.push(rssMb(pid)), 20)
  const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${key}`,
      'x-bench-chunks': '10000',
    },
    body: STREAM_BODY,
  })
  const text = await res.text()
  clearInterval(timer)
  samples.push(rssMb(pid))
  return {
    min: Math.min(...samples),
    max: Math.max(...samples),
    chunks: text.split('\n\n').length - 1,
  }
}

/** xgate with a normal funded account; `level` info writes the access line of every request. */
async function gateway(
  port: number,
  up: number,
  level: string,
  dataDir: string,
): Promise<Subprocess> {
  mkdirSync(dataDir, { recursive: true })
  const database: Record<string, string> = pg
    ? { DATABASE_URL: await pg.database(`bench_${level}`) }
    : {}
  return start(
    `gateway (${level})`,
    [process.execPath, 'src/main.ts', 'serve'],
    {
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: level,
      // $100,000 of credit: at $1M the bootstrap's hard limit (10 × credit, 1e16 nano-USD) is past
      // a safe integer, which PostgreSQL reads refuse (SQLite reads it as a float).
      INIT_USERS: `root::root@bench.local::${rootKey},bench::bench@bench.local::${userKey}::100000`,
      INIT_KEYS: `sk-bench-upstream-key-0001::http://127.0.0.1:${up}`,
      ...database,
    },
    port,
  )
}

try {
  const [UP, PASS, GW, GW_INFO] = [18431, 18432, 18433, 18434]
  if (ENGINE === 'postgres') pg = await startBenchPostgres()
  await start('upstream', [process.execPath, 'scripts/bench-upstream.ts'], { PORT: String(UP) }, UP)
  const pass = await start(
    'passthrough',
    [process.execPath, 'scripts/passthrough.ts'],
    { PORT: String(PASS), UPSTREAM: `http://127.0.0.1:${UP}` },
    PASS,
  )
  const gw = await gateway(GW, UP, 'warn', join(dir, 'warn'))
  // The same gateway writing one access line per request (to stdout, discarded here).
  const gwInfo = await gateway(GW_INFO, UP, 'info', join(dir, 'info'))
  const rows: Array<[string, Run, Run]> = []
  // Warm up every path (JIT, connection pools, auth LRU, balance cache).
  for (const port of [UP, PASS, GW, GW_INFO]) await wrk(port, 8, userKey, BODY)
  for (const [name, port, pid] of [
    ['fake provider, direct', UP, undefined],
    ['passthrough (20 lines)', PASS, pass.pid],
    ['xgate (auth + billing)', GW, gw.pid],
    ['xgate, LOG_LEVEL=info', GW_INFO, gwInfo.pid],
  ] as const) {
    const c1 = await wrk(port, 1, userKey, BODY, pid)
    const c64 = await wrk(port, 64, userKey, BODY, pid)
    rows.push([name, c1, c64])
  }
  const ttfbPass = await ttfb(PASS, userKey)
  const ttfbGw = await ttfb(GW, userKey)
  const rssIdle = rssMb(gw.pid)
  const long = await longStream(GW, userKey, gw.pid)

  const f = (n: number, d = 0) => n.toFixed(d)
  console.log(
    `\n${SECONDS}s per run, wrk -t1, non-stream chat completion, ${new Date().toISOString()}\n`,
  )
  console.log(
    `Engine: ${ENGINE === 'postgres' ? `PostgreSQL (${await pg!.describe()}), DATABASE_URL per gateway` : 'SQLite in DATA_DIR'}\n`,
  )
  console.log(
    '| target | c=1 req/s | c=1 p50 µs | c=1 p99 µs | c=64 req/s | c=64 p50 µs | c=64 p99 µs | CPU µs/req (c=64) | database CPU µs/req (c=64) | errors | other load, cores (c=64) |',
  )
  console.log('| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |')
  for (const [name, a, b] of rows) {
    console.log(
      `| ${name} | ${f(a.rps)} | ${a.p50us} | ${a.p99us} | ${f(b.rps)} | ${b.p50us} | ${b.p99us} | ${b.cpuUsPerReq ? f(b.cpuUsPerReq) : '—'} | ${b.dbCpuUsPerReq !== undefined ? f(b.dbCpuUsPerReq, 1) : '—'} | ${a.errors + b.errors} | ${f(b.otherCores, 2)} |`,
    )
  }
  const [, p1, p64] = rows[1]!
  const [, g1, g64] = rows[2]!
  const [, , i64] = rows[3]!
  console.log(
    `\n- throughput at c=64: xgate / passthrough = ${(g64.rps / p64.rps).toFixed(2)} (target ≥ 0.85); at LOG_LEVEL=info ${(i64.rps / p64.rps).toFixed(2)}`,
  )
  console.log(`- added p50 at c=1 over passthrough: ${g1.p50us - p1.p50us} µs (target < 300 µs)`)
  console.log(
    `- stream TTFB median: passthrough ${ttfbPass.toFixed(3)} ms, xgate ${ttfbGw.toFixed(3)} ms, Δ ${(ttfbGw - ttfbPass).toFixed(3)} ms (target < 1 ms)`,
  )
  console.log(
    `- gateway RSS: at most ${f(Math.max(g1.rssMaxMb!, g64.rssMaxMb!), 1)} MB during its wrk runs; ${f(rssIdle, 1)} MB after them; during a 10,000-chunk stream (${long.chunks} events relayed): ${f(long.min, 1)}–${f(long.max, 1)} MB (target < 150 MB, flat)`,
  )
} finally {
  for (const p of procs) p.kill()
  await Promise.all(procs.map((p) => p.exited))
  await pg?.stop()
  rmSync(dir, { recursive: true, force: true })
}
