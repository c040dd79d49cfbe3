// SIGTERM under load (SPEC §10): the real server stops accepting, lets the streams in flight
// finish ([DONE] reaches their clients), writes every usage record and exits 0. The longer
// version (several stop/restart cycles) is test/soak/sigterm.test.ts.
import { expect, test } from 'bun:test'
import { runSigtermCycles } from './sigterm-run'

test('SIGTERM mid-load: streams in flight finish, every call that reached the upstream is recorded, exit 0', async () => {
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
