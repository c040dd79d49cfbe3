// SIGTERM under load (SPEC §10): streams in flight reach [DONE], every usage record is written,
// exit 0. Longer: test/soak/sigterm.test.ts.
import { expect, test } from 'bun:test'
import { runSigtermCycles } from './sigterm-run'

test('SIGTERM mid-load: streams finish, every upstream call recorded, exit 0', async () => {
  const f = await runSigtermCycles({
    cycles: 1,
    loadMs: 1500,
    concurrency: 8,
    accounts: 4,
    longStreams: 4,
  })
  console.log(`sigterm: ${JSON.stringify(f)}`)
  expect(f.cycles[0]!.completed, 'calls completed').toBeGreaterThan(50)
})
