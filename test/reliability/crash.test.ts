// kill -9 under load (SPEC §10): the real server, a fake upstream, chat calls streamed and not
// from several accounts with admin writes in parallel; one kill, restart on the same DATA_DIR,
// where the books, the admin writes, the usage (less the last flush window), the limit windows
// and the monthly spend must all be found again.
// The longer version (5 kill/restart cycles) is test/soak/crash.test.ts.
import { expect, test } from 'bun:test'
import { runCrashCycles } from './crash-run'

test('kill -9 mid-load: database sound, admin writes kept, usage lost only from the last flush interval', async () => {
  const f = await runCrashCycles({
    cycles: 1,
    loadMs: 2000,
    concurrency: 8,
    accounts: 4,
    adminEvery: 8,
  })
  const c = f.cycles[0]!
  console.log(`crash: ${JSON.stringify(f)}`)
  expect(c.completed, 'calls completed before the kill').toBeGreaterThan(50)
})
