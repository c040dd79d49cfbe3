// The console tests' world: a fake provider behind two upstream keys, a real gateway on port 0
// whose clock is moved over the last four days while a reseller ("alice") makes her calls, then
// set to now. What was made is kept so the tests can compare the console with it.
import { createFakeClock } from '../../src/shared/clock'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'

const DAY_MS = 86_400_000
export const UPSTREAM_A = `sk-upstream-a-${'x'.repeat(24)}`
export const UPSTREAM_B = `sk-upstream-b-${'y'.repeat(24)}`

/** Calls per day (days before today) and model. */
const PLAN: Array<[number, Record<string, number>]> = [
  [3, { 'gpt-4o-mini': 5 }],
  [2, { 'gpt-4o': 4 }],
  [1, { 'gpt-4o-mini': 6, 'gpt-4o': 3 }],
  [0, { 'gpt-4o-mini': 7 }],
]

export type Seeded = {
  up: FakeUpstream
  gw: TestGateway
  alice: { key: string }
  /** Request ids of alice's calls, oldest first. */
  requestIds: string[]
  /** YYYY-MM-DD (UTC) of each day alice called, oldest first. */
  days: string[]
  /** Calls per model. */
  perModel: Record<string, number>
  chat(key: string, model: string): Promise<Response>
  close(): Promise<void>
}

export async function startSeeded(): Promise<Seeded> {
  // Calls of a realistic size, so the screens show cents rather than micro-dollars.
  const up = await startFakeUpstream({ promptTokens: 12_000, completionTokens: 3_000 })
  const clock = createFakeClock(Date.now() - 3 * DAY_MS)
  const gw = await startTestGateway(
    { INIT_KEYS: `${UPSTREAM_A}::${up.url},${UPSTREAM_B}::${up.url}` },
    { clock },
  )
  const made = await call(gw, 'POST', '/x-users', {
    key: gw.rootKey,
    body: {
      Name: 'alice',
      Email: 'alice@example.com',
      CreditGranted: 200,
      RPM: 600,
      TPM: 1_000_000,
    },
  })
  if (made.status !== 200) throw new Error(`seed: ${made.text}`)
  const alice = { key: made.body.User.SecretKey as string }
  const chat = (key: string, model: string) =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model,
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 4_000,
      }),
    })
  const requestIds: string[] = []
  const days: string[] = []
  const perModel: Record<string, number> = {}
  for (const [ago, models] of PLAN) {
    clock.set(Date.now() - ago * DAY_MS)
    for (const [model, n] of Object.entries(models)) {
      for (let i = 0; i < n; i++) {
        const res = await chat(alice.key, model)
        await res.text()
        if (res.status !== 200) throw new Error(`seed call: ${res.status}`)
        requestIds.push(res.headers.get('x-request-id')!)
        const day = new Date(clock.now()).toISOString().slice(0, 10)
        if (days.at(-1) !== day) days.push(day)
        perModel[model] = (perModel[model] ?? 0) + 1
        clock.advance(1_000)
      }
    }
  }
  clock.set(Date.now())
  return {
    up,
    gw,
    alice,
    requestIds,
    days,
    perModel,
    chat,
    async close() {
      await gw.close()
      await up.stop()
    },
  }
}
