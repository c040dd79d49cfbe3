// Soak: five kill -9 / restart cycles on one DATA_DIR under heavier load (npm run test:soak).
// Cycles alternate: a quiet tail (only admin writes that do not flush, so the usage kept rests on
// the flusher's timer) and account writes running into the kill.
import { expect, test } from 'bun:test'
import { runCrashCycles } from '../reliability/crash-run'

test('soak: 5 × kill -9 under load, restart on the same DATA_DIR; books and admin writes intact every time', async () => {
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
  console.log(
    `soak crash: ${f.cycles.reduce((n, c) => n + c.calls, 0)} calls, ${f.cycles.length} kills, ${lost} usage records lost; ${lastInterval} calls completed in the last 200 ms before the kills; oldest loss ${oldest} ms before its kill; ${f.elapsedMs} ms`,
  )
  expect(f.cycles).toHaveLength(5)
  for (const c of f.cycles) expect(c.completed, JSON.stringify(c)).toBeGreaterThan(200)
}, 600_000)
