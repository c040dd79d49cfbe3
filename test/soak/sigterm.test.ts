// Soak: three SIGTERM / restart cycles under heavier load with more long streams in flight.
import { expect, test } from 'bun:test'
import { runSigtermCycles } from '../reliability/sigterm-run'

test('soak: 3 × SIGTERM under load, nothing missing, streams finish, exit 0', async () => {
  const f = await runSigtermCycles({
    cycles: 3,
    loadMs: 4000,
    concurrency: 12,
    accounts: 8,
    longStreams: 12,
  })
  console.log(`soak sigterm: ${JSON.stringify(f)}`)
  expect(f.cycles).toHaveLength(3)
  for (const c of f.cycles) expect(c.completed, JSON.stringify(c)).toBeGreaterThan(200)
}, 600_000)
