// 300 SSE streams open at once through the real server (more than Bun's default of 256 fetches in
// flight, which `serve` lifts at start-up): every one completes with [DONE], carries the whole
// text, hides the usage chunk and is recorded once. The 1,000-stream, 60-second RSS soak is
// test/soak/streams.test.ts. No timings are asserted.
import { expect, test } from 'bun:test'
import { mib, runStreams } from './streams-run'

test('300 concurrent streams all reach the upstream at once, complete and are billed', async () => {
  const streams = 300
  const f = await runStreams({
    streams,
    chunks: 20,
    chunkDelayMs: 100,
    accounts: 10,
    rampMs: 300,
    sampleMs: 250,
  })
  const rss = f.samples.map((s) => s.rssKb)
  console.log(
    `streams: ${streams} open after ${f.allOpenAtMs} ms, done at ${f.endedAtMs} ms, upstream ` +
      `peak ${f.upstreamPeak}, server RSS ${mib(Math.min(...rss))}–${mib(Math.max(...rss))} MiB`,
  )
  const failed = f.outcomes.filter((o) => !(o.status === 200 && o.complete && !o.error))
  expect(failed.slice(0, 3), `${failed.length} streams failed`).toEqual([])
  expect(f.outcomes.every((o) => o.chars === f.expectedChars && !o.sawUsage)).toBe(true)
  expect(f.upstreamPeak, 'every stream in flight upstream at once').toBe(streams)
  expect(f.serverExit).toBe(0)
  expect(f.usage).toEqual({
    records: streams,
    ok: streams,
    estimated: 0,
    completionTokens: streams * 8,
  })
})
