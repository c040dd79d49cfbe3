// The fake provider as its own process for scripts/bench.ts: `PORT=P bun scripts/bench-upstream.ts`.
// A request header `x-bench-chunks: N` asks for a stream of N content chunks.
import { startFakeUpstream } from '../test/helpers/fake-upstream'

const up = await startFakeUpstream({
  port: Number(process.env.PORT ?? 0),
  maxCalls: 0,
  behavior: (req) => {
    const n = Number(req.headers['x-bench-chunks'] ?? 0)
    return n > 0 ? { chunks: n, text: 'abcdefgh'.repeat(n) } : undefined
  },
})
process.stdout.write(`upstream on ${up.port}\n`)
