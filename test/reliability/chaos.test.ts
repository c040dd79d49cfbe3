// Upstream chaos (SPEC §4 failover, §6 metering) against the in-process gateway: faults before the
// first byte fail over to the next key or level, faults after it end the stream and bill what was
// seen, marked estimated; no call is billed twice. The longer version is test/soak/chaos.test.ts.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { startTestGateway, type TestGateway } from '../helpers/gateway'
import { chat } from '../helpers/load'
import { addAccount, usageRows } from '../proxy/fixtures'

const BROKEN = 'sk-chaos-breaks-off-0000000001'
const STEADY = 'sk-chaos-steady-00000000000002'
let up: FakeUpstream
let gw: TestGateway

beforeAll(async () => {
  up = await startFakeUpstream()
  gw = await startTestGateway({ INIT_KEYS: `${BROKEN}::${up.url},${STEADY}::${up.url}` })
})
afterAll(async () => {
  await gw.close()
  await up.stop()
})

test('a JSON answer that breaks off mid-body fails over to the next key and is billed once', async () => {
  up.setBehavior((r) => (r.key === BROKEN ? { disconnectAfterChunks: 1 } : undefined))
  const { key, account } = addAccount(gw)
  const broken = gw.deps.keys.pool.all().find((k) => k.secret === BROKEN)!
  const steady = gw.deps.keys.pool.all().find((k) => k.secret === STEADY)!
  const errorsBefore = broken.errors
  const results = []
  for (let i = 0; i < 4; i++) results.push(await chat(gw.url, key, { stream: false }))
  for (const r of results) {
    expect(r.status, r.error ?? '').toBe(200)
    expect(r.body.choices[0].message.content).toBe('Hello from the fake upstream.')
  }
  expect(up.tally.byKey[BROKEN]?.disconnected, 'the broken key was tried').toBeGreaterThan(0)
  expect(broken.errors).toBeGreaterThan(errorsBefore)
  const rows = usageRows(gw, account.id)
  expect(rows.map((u) => [u.request_id, u.key_id, u.status, u.estimated, u.cost_nano])).toEqual(
    results.map((r) => [r.requestId, steady.id, 200, 0, 12 * 150 + 8 * 600]),
  )
})
