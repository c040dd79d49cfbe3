// Windows and monthly spend survive a restart: a gateway stopped mid-window and started again on
// the same DATA_DIR keeps its counts; buckets that left their window while it was down are pruned.
import { afterEach, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { createFakeClock } from '../../src/shared/clock'
import type { Gateway } from '../../src/server'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { startTestGateway } from '../helpers/gateway'
import { addUnder, chat, keysEnv, restartOn, S, statuses } from './gatekit'

const DAY = 86_400_000
const cleanup: Array<() => Promise<unknown> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function world() {
  const up = await startFakeUpstream()
  cleanup.push(() => up.stop())
  const clock = createFakeClock(Date.now())
  const env = keysEnv(up)
  const first = await startTestGateway(env, { clock })
  cleanup.push(() => rmSync(first.dataDir, { recursive: true, force: true }))
  let live: Gateway = first
  cleanup.push(() => live.stop())
  /** Stops the running gateway (graceful: flush, close) and starts one on the same DATA_DIR. */
  const restart = async () => {
    await live.stop()
    live = await restartOn(first.dataDir, env, clock)
    return live
  }
  return { up, clock, first, restart }
}

const rowsOf = async (gw: Gateway, scope: string) =>
  (
    (await gw.deps.sql.get('SELECT COUNT(*) AS n FROM limit_windows WHERE scope = ?', [scope])) as {
      n: number
    }
  ).n

describe('restart mid-window', () => {
  test('RPM, RPD and TPM counts are kept; the window still frees on time', async () => {
    const { clock, first, restart } = await world()
    const { key, account } = await addUnder(first, null, { rpm: 3, rpd: 5, tpm: 1000 })
    const scope = `a:${account.id}`
    expect(await statuses(first, key, 2)).toEqual([200, 200])
    const before = first.deps.limits.windows.usage(scope)
    expect(before).toMatchObject({ rpm: 2, rpd: 2, tpm: 40 })

    clock.advance(20 * S)
    const second = await restart()
    expect(second.deps.limits.windows.usage(scope)).toEqual(before)
    expect(await statuses(second, key, 2)).toEqual([200, 429])
    const denied = await chat(second, key)
    expect(Number(denied.headers.get('retry-after')), denied.text).toBeLessThanOrEqual(41)

    clock.advance(41 * S)
    expect(await statuses(second, key, 3)).toEqual([200, 200, 429])
    expect(second.deps.limits.windows.usage(scope).rpd).toBe(5)
  })

  test('month spend is kept: the HardLimit still holds after a restart', async () => {
    const { clock, first, restart } = await world()
    // max_tokens 8: each call holds 7,950 nano-USD and costs 6,600: two fit under 21,000, a third not.
    const { key, account } = await addUnder(first, null, { hardLimitNano: 21_000 })
    expect(await statuses(first, key, 2, { maxTokens: 8 })).toEqual([200, 200])
    const spent = first.deps.limits.monthly.get(account.id)
    expect(spent).toBe(13_200)
    clock.advance(60 * S)
    const second = await restart()
    expect(second.deps.limits.monthly.get(account.id)).toBe(spent)
    const r = await chat(second, key, { maxTokens: 8 })
    expect(r.status, r.text).toBe(429)
    expect(r.body.error.code, r.text).toBe('hard_limit_reached')
  })

  test('buckets that left their window while the gateway was down are pruned at start', async () => {
    const { clock, first, restart } = await world()
    const { key, account } = await addUnder(first, null, { rpm: 3, rph: 10 })
    const scope = `a:${account.id}`
    expect(await statuses(first, key, 1)).toEqual([200])
    await first.deps.flusher.flushNow()
    expect(await rowsOf(first, scope)).toBeGreaterThan(0)
    clock.advance(2 * DAY)
    const second = await restart()
    expect(await rowsOf(second, scope)).toBe(0)
    expect(second.deps.limits.windows.usage(scope)).toMatchObject({ rpm: 0, rph: 0 })
  })
})
