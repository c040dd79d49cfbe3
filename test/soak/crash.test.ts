// Soak: five kill -9 / restart cycles on one DATA_DIR; cycles alternate a quiet tail (usage kept
// by the flusher's timer alone) with account writes running into the kill.
import { expect, test } from 'bun:test'
import { runCrashCycles } from '../reliability/crash-run'

test('soak: 5 × kill -9 and restart on one DATA_DIR, books and admin writes intact', async () => {
  const f = await runCrashCycles({
    cycles: 5,
    loadMs: 5000,
    concurrency: 12,
    accounts: 8,
    adminEvery: 6,
    quietTail: (c) => c % 2 === 0,
  })
  console.log(`soak crash: ${JSON.stringify(f)}`)
  const lost = f.cycles.reduce((n, c) => n + c.lost, 0)
  const lastInterval = f.cycles.reduce((n, c) => n + c.lastInterval, 0)
  const oldest = Math.max(...f.cycles.map((c) => c.oldestLossMs))
  const calls = f.cycles.reduce((n, c) => n + c.calls, 0)
  console.log(
    `soak crash: ${calls} calls, ${f.cycles.length} kills, ${lost} usage records lost; ` +
      `${lastInterval} calls completed in the last 200 ms before the kills; ` +
      `oldest loss ${oldest} ms before its kill; ${f.elapsedMs} ms`,
  )
  expect(f.cycles).toHaveLength(5)
  for (const c of f.cycles) expect(c.completed, JSON.stringify(c)).toBeGreaterThan(200)
}, 600_000)
