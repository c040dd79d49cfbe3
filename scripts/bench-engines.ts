// The proxy benchmark on both engines in one sitting: `scripts/bench.ts` run on SQLite and on
// PostgreSQL in turn, `rounds` times, then the c=64 ratio to the passthrough per run and the
// medians per engine, as Markdown. `bun scripts/bench-engines.ts [rounds] [seconds] [--out DIR]`
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Engine } from './bench-pg'

const args = process.argv.slice(2)
const outAt = args.indexOf('--out')
const outDir = outAt >= 0 ? args.splice(outAt, 2)[1]! : null
const ROUNDS = Number(args[0] ?? 3)
const SECONDS = Number(args[1] ?? 4)
const ENGINES: Engine[] = ['sqlite', 'postgres']

type Row = { rps1: number; p50c1: number; rps64: number; cpu: number; dbCpu: number; other: number }
type Result = { round: number; engine: Engine; pass: Row; gw: Row }

/** One target's cells from the table bench.ts prints. */
function rowOf(out: string, name: string): Row {
  const line = out.split('\n').find((l) => l.startsWith(`| ${name} |`))
  if (!line) throw new Error(`no "${name}" row in:\n${out}`)
  const c = line
    .split('|')
    .slice(2, -1)
    .map((x) => x.trim())
  const n = (s: string) => (s === '—' ? 0 : Number(s))
  return {
    rps1: n(c[0]!),
    p50c1: n(c[1]!),
    rps64: n(c[3]!),
    cpu: n(c[6]!),
    dbCpu: n(c[7]!),
    other: n(c[9]!),
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const results: Result[] = []
if (outDir) mkdirSync(outDir, { recursive: true })
for (let round = 1; round <= ROUNDS; round++) {
  // Alternate which engine goes first, so a slow stretch of the host does not favour one.
  for (const engine of round % 2 ? ENGINES : [...ENGINES].reverse()) {
    const p = Bun.spawn(
      [process.execPath, 'scripts/bench.ts', String(SECONDS), '--engine', engine],
      {
        stdout: 'pipe',
        stderr: 'inherit',
      },
    )
    const out = await new Response(p.stdout).text()
    if ((await p.exited) !== 0) throw new Error(`bench.ts on ${engine} failed:\n${out}`)
    if (outDir) writeFileSync(join(outDir, `round${round}-${engine}.md`), out)
    const r = {
      round,
      engine,
      pass: rowOf(out, 'passthrough (20 lines)'),
      gw: rowOf(out, 'xgate (auth + billing)'),
    }
    results.push(r)
    console.error(`round ${round} ${engine}: ratio ${(r.gw.rps64 / r.pass.rps64).toFixed(2)}`)
  }
}

const f = (n: number, d = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
console.log(`\n${ROUNDS} rounds, ${SECONDS} s per wrk run, ${new Date().toISOString()}\n`)
console.log(
  '| round | engine | passthrough c=64 req/s | xgate c=64 req/s | ratio | CPU µs/req passthrough | CPU µs/req xgate | database CPU µs/req | Δ p50 c=1 µs | other load, cores |',
)
console.log('| --: | --- | --: | --: | --: | --: | --: | --: | --: | --: |')
const line = (r: Result) =>
  `| ${r.round} | ${r.engine} | ${f(r.pass.rps64)} | ${f(r.gw.rps64)} | ${(r.gw.rps64 / r.pass.rps64).toFixed(2)} | ${f(r.pass.cpu)} | ${f(r.gw.cpu)} | ${r.engine === 'postgres' ? f(r.gw.dbCpu, 1) : '—'} | ${r.gw.p50c1 - r.pass.p50c1} | ${f(r.gw.other, 2)} |`
for (const r of results) console.log(line(r))
for (const engine of ENGINES) {
  const rs = results.filter((r) => r.engine === engine)
  const m = (g: (r: Result) => number, d = 0) => f(median(rs.map(g)), d)
  console.log(
    `| **median** | ${engine} | ${m((r) => r.pass.rps64)} | ${m((r) => r.gw.rps64)} | **${m((r) => r.gw.rps64 / r.pass.rps64, 2)}** | ${m((r) => r.pass.cpu, 1)} | ${m((r) => r.gw.cpu, 1)} | ${engine === 'postgres' ? m((r) => r.gw.dbCpu, 1) : '—'} | ${m((r) => r.gw.p50c1 - r.pass.p50c1)} | ${m((r) => r.gw.other, 2)} |`,
  )
}
