// Soak: upstream chaos over 3,000 calls with a fresh seed each run (printed; replay it with
// XGATE_CHAOS_SEED).
import { expect, test } from 'bun:test'
import { runChaos } from '../reliability/chaos-run'

test('soak: chaos over 3,000 calls, no failed non-stream, no double billing', async () => {
  const seed = Number(process.env.XGATE_CHAOS_SEED ?? Date.now() % 1_000_000)
  console.log(`soak chaos: seed ${seed}`)
  const f = await runChaos({ calls: 3000, concurrency: 10, seed })
  console.log(`soak chaos: ${JSON.stringify(f)}`)
  expect(f.brokenStreams, `streams cut after the first byte (seed ${seed})`).toBeGreaterThan(0)
  expect(f.faults.hang, `hangs (seed ${seed})`).toBeGreaterThan(0)
}, 600_000)
