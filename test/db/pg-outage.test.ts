// PostgreSQL going away while xgate serves: admin calls answer 503 store_unavailable, proxied calls
// of known accounts go on from memory with their usage held in the write-behind buffer (beyond
// WRITE_BEHIND_MAX_ROWS they get 503 too), /healthz and /metrics say so, and when the database is
// back the buffer is written: every call recorded and charged once, the books balanced.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { checkStore } from '../../src/db/commands'
import { onEngine } from '../helpers/engine'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'
import { startPostgres, type PgServer } from '../helpers/postgres'
import { OPENAI_SECRET } from '../proxy/fixtures'
import { until } from '../proxy/fixtures'

onEngine('postgres', () => {
  describe('PostgreSQL unreachable while serving', () => {
    let pg: PgServer
    let up: FakeUpstream
    let gw: TestGateway
    let url: string
    beforeAll(async () => {
      // A server of this test's own, so stopping it touches no other test.
      pg = await startPostgres({ durable: true })
      url = await pg.createDatabase()
      up = await startFakeUpstream()
      gw = await startTestGateway({
        DATABASE_URL: url,
        INIT_KEYS: `${OPENAI_SECRET}::${up.url}`,
        FLUSH_INTERVAL_MS: '50',
        WRITE_BEHIND_MAX_ROWS: '200',
      })
    })
    afterAll(async () => {
      await gw?.close()
      await up?.stop()
      await pg?.stop()
    })

    const chat = (key: string) =>
      call(gw, 'POST', '/v1/chat/completions', {
        key,
        body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 },
      })
    const count = async (text: string) => {
      const { postgresSql } = await import('../../src/db/postgres')
      const sql = postgresSql(url, { max: 1 })
      try {
        return (await sql.get<{ n: number }>(text))!.n
      } finally {
        await sql.close()
      }
    }

    test('calls go on, admin is 503, nothing lost or twice when it is back', async () => {
      const made = await call(gw, 'POST', '/x-users', {
        key: gw.rootKey,
        body: { Name: 'outage1', Email: 'outage1@example.com', CreditGranted: 20 },
      })
      expect(made.status, made.text).toBe(200)
      const key = made.body.User.SecretKey as string
      expect((await chat(key)).status).toBe(200)
      await gw.deps.flusher.flushNow()

      await pg.kill()
      const during: number[] = []
      for (let i = 0; i < 10; i++) during.push((await chat(key)).status)
      expect(during, 'a known account is served from memory').toEqual(Array(10).fill(200))
      const admin = await call(gw, 'GET', '/x-users', { key: gw.rootKey })
      expect(admin.status, admin.text).toBe(503)
      expect(admin.body.error.code).toBe('store_unavailable')
      expect(admin.headers.get('retry-after')).toBe('5')
      await until(() => gw.deps.flusher.stats().failingFor > 0, 5000)
      const health = await call(gw, 'GET', '/healthz')
      expect(health.body.store).toMatchObject({ engine: 'postgres', reachable: false })
      expect(health.body.pendingWrites).toBeGreaterThan(0)
      const metrics = await fetch(`${gw.url}/metrics`).then((r) => r.text())
      expect(metrics).toContain('xgate_store_up 0')

      await pg.restart()
      await until(async () => gw.deps.flusher.stats().failingFor === 0 && gw.deps.flusher.pending() === 0, 15_000)
      expect((await call(gw, 'GET', '/healthz')).body.store.reachable).toBe(true)
      expect((await call(gw, 'GET', '/x-users', { key: gw.rootKey })).status).toBe(200)
      const acc = made.body.User.ID as number
      expect(await count(`SELECT COUNT(*) AS n FROM usage_records WHERE account_id = ${acc}`)).toBe(11)
      expect(await count(`SELECT COUNT(*) AS n FROM ledger WHERE account_id = ${acc} AND reason = 'usage'`)).toBe(11)
      const report = await checkStore({ DATA_DIR: gw.dataDir, DATABASE_URL: url })
      expect(report.ok, report.lines.join('\n')).toBe(true)
    }, 60_000)

    test('beyond WRITE_BEHIND_MAX_ROWS proxied calls get 503 too, until the buffer is written', async () => {
      const made = await call(gw, 'POST', '/x-users', {
        key: gw.rootKey,
        body: { Name: 'outage2', Email: 'outage2@example.com', CreditGranted: 20 },
      })
      const key = made.body.User.SecretKey as string
      expect((await chat(key)).status).toBe(200)
      await gw.deps.flusher.flushNow()
      await pg.kill()
      let served = 0
      let refused: Awaited<ReturnType<typeof chat>> | null = null
      for (let i = 0; i < 400 && !refused; i++) {
        const r = await chat(key)
        if (r.status === 200) served++
        else refused = r
        // Let a flush fail now and then, as the timer does.
        if (i % 10 === 9) await gw.deps.flusher.flushNow()
      }
      expect(refused, 'a full buffer refuses new calls').not.toBeNull()
      expect(refused!.status).toBe(503)
      expect(refused!.body.error.code).toBe('store_unavailable')
      expect(served).toBeGreaterThan(0)
      await pg.restart()
      await until(async () => gw.deps.flusher.stats().failingFor === 0 && gw.deps.flusher.pending() === 0, 15_000)
      expect((await chat(key)).status).toBe(200)
      await gw.deps.flusher.flushNow()
      const acc = made.body.User.ID as number
      expect(await count(`SELECT COUNT(*) AS n FROM usage_records WHERE account_id = ${acc}`)).toBe(served + 2)
      const report = await checkStore({ DATA_DIR: gw.dataDir, DATABASE_URL: url })
      expect(report.ok, report.lines.join('\n')).toBe(true)
    }, 60_000)
  })
})
