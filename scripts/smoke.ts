// Smoke test of the compiled binary: start it on a free port with a temporary DATA_DIR, check
// /healthz and /swagger/json, make one proxied call to a fake upstream with the official OpenAI
// SDK and see it charged, then stop it with SIGTERM and check the exit status. With --postgres the
// binary keeps its records in a PostgreSQL server started for the run (test/helpers/postgres.ts);
// with --redis too it runs as one node of several (REDIS_URL, a redis-server started for the run).
// usage: bun scripts/smoke.ts dist/xgate [--postgres [--redis]]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import OpenAI from 'openai'
import { startFakeUpstream } from '../test/helpers/fake-upstream'
import { startPostgres } from '../test/helpers/postgres'
import { startRedis } from '../test/helpers/redis'

const bin = resolve(process.argv[2] ?? 'dist/xgate')
const dataDir = mkdtempSync(join(tmpdir(), 'xgate-smoke-'))
const cwd = mkdtempSync(join(tmpdir(), 'xgate-smoke-cwd-')) // run from elsewhere: nothing read from the checkout

let serving: { kill(): void } | null = null

/** Stops the binary too: a failed smoke test must not leave a gateway running (CI would hang). */
function fail(msg: string): never {
  console.error(`smoke: FAIL ${msg}`)
  serving?.kill()
  void pg?.stop()
  void redis?.stop()
  process.exit(1)
}

const pg = process.argv.includes('--postgres') ? await startPostgres() : null
const databaseUrl = pg ? await pg.createDatabase('smoke') : null
const redis = pg && process.argv.includes('--redis') ? await startRedis() : null
const up = await startFakeUpstream({ promptTokens: 10, completionTokens: 5 })
const proc = Bun.spawn([bin, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], {
  cwd,
  env: {
    PATH: process.env.PATH ?? '',
    INIT_KEYS: `sk-smoke-upstream::${up.url}`,
    FLUSH_INTERVAL_MS: '20',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...(redis ? { REDIS_URL: redis.url, NODES: '2', NODE_ID: 'smoke-1' } : {}),
  },
  stdout: 'pipe',
  stderr: 'inherit',
})
serving = proc
const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
let out = ''
const deadline = Date.now() + 20_000
let port = 0
while (!port && Date.now() < deadline) {
  const { value, done } = await reader.read()
  if (done) break
  out += new TextDecoder().decode(value)
  const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out)
  if (m) port = Number(m[1])
}
if (!port) fail(`binary did not start: ${out}`)
const base = `http://127.0.0.1:${port}`
const rootKey = /\n(sk-Xvs[A-Za-z0-9]{45})\n/.exec(out)?.[1]
if (!rootKey) fail('no generated root key printed on first start')

const health = await fetch(`${base}/healthz`)
const hb = (await health.json()) as { status?: string; version?: string }
if (health.status !== 200 || hb.status !== 'ok') fail(`/healthz ${health.status} ${JSON.stringify(hb)}`)
const spec = await fetch(`${base}/swagger/json`)
const sj = (await spec.json()) as { openapi?: string; paths?: Record<string, unknown> }
if (spec.status !== 200 || !sj.openapi || !sj.paths?.['/healthz']) fail(`/swagger/json ${spec.status}`)
const ui = await fetch(`${base}/swagger-assets/scalar.js`)
if (ui.status !== 200 || (await ui.arrayBuffer()).byteLength < 100_000) fail('embedded Scalar bundle missing')
// The web console and one of its hashed assets, from the binary itself.
const page = await fetch(`${base}/console`)
const html = await page.text()
const asset = /\/console\/assets\/[^"']+\.js/.exec(html)?.[0]
if (page.status !== 200 || !asset) fail(`/console ${page.status}: no script in the page`)
const js = await fetch(`${base}${asset}`)
if (js.status !== 200 || (await js.arrayBuffer()).byteLength < 10_000) fail(`console asset ${asset}: ${js.status}`)
const engine = (hb as { store?: { engine?: string } }).store?.engine
if (engine !== (pg ? 'postgres' : 'sqlite')) fail(`/healthz says the store is ${engine}`)
const cluster = (hb as { cluster?: { node?: string; limits?: string; changes?: string } | null }).cluster
if (redis && (cluster?.node !== 'smoke-1' || cluster.limits !== 'shared' || cluster.changes !== 'live'))
  fail(`/healthz cluster: ${JSON.stringify(cluster)}`)
if (!redis && cluster !== null) fail(`/healthz cluster on one node: ${JSON.stringify(cluster)}`)
const created = await fetch(`${base}/x-users`, {
  method: 'POST',
  headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/json' },
  body: JSON.stringify({ Name: 'smoketest', Email: 'smoke@example.com', CreditGranted: 25 }),
})
const cj = (await created.json()) as { User?: { SecretKey?: string } }
const key = cj.User?.SecretKey
if (created.status !== 200 || !key) fail(`POST /x-users ${created.status} ${JSON.stringify(cj)}`)
const client = new OpenAI({ apiKey: key, baseURL: `${base}/v1`, maxRetries: 0 })
const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
if (!answer.choices[0]?.message?.content || up.tally.requests !== 1) fail('proxied call did not reach the fake upstream')
await Bun.sleep(100)
const me = await fetch(`${base}/x-users/smoketest`, { headers: { authorization: `Bearer ${rootKey}` } })
// A single identifier answers one object (a filter would answer a list).
const mine = (await me.json()) as { Balance?: number }
// gpt-4o-mini: 10 × 0.15 + 5 × 0.6 USD per million = 4.5 µUSD charged from the 25 USD card
if (mine.Balance !== 25 - 0.0000045) fail(`balance after one call: ${JSON.stringify(mine)}`)
console.log(`smoke: healthz ok (version ${hb.version}), swagger/json ${Object.keys(sj.paths).length} paths, UI bundle and console embedded`)

proc.kill('SIGTERM')
const code = await proc.exited
if (code !== 0) fail(`exit status after SIGTERM was ${code}`)
console.log('smoke: one proxied chat completion through the binary, charged 4.5 µUSD')
console.log('smoke: SIGTERM → exit 0')
if (pg) {
  const { postgresSql } = await import('../src/db/postgres')
  const sql = postgresSql(databaseUrl!, { max: 1 })
  const n = (await sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM usage_records'))!.n
  await sql.close()
  if (n !== 1) fail(`PostgreSQL holds ${n} usage records, not 1`)
  console.log('smoke: the records are in PostgreSQL (one usage record)')
  await pg.stop()
}
if (redis) {
  console.log('smoke: one node of several (REDIS_URL): /healthz says the limits and balances are shared')
  await redis.stop()
}
await up.stop()
rmSync(dataDir, { recursive: true, force: true })
rmSync(cwd, { recursive: true, force: true })
