// Translation benchmark: the gateway's CPU per non-streamed call and its stream time to first
// byte, translated (OpenAI client on a Claude model, Anthropic client on an OpenAI model) against
// native (each client on its own provider's model), alternating in rounds; plus the pure
// translation functions timed in this process. Prints a Markdown table.
// `bun scripts/bench-translate.ts [requests per run] [rounds]`
import type { Subprocess } from 'bun'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKey } from '../src/shared/ids'
import { cpuMs, startProcess } from './bench-lib'
import { ENDPOINTS } from '../src/proxy/endpoints'
import { catalogueProvider, routeOf } from '../src/proxy/translate/route'

const REQUESTS = Number(process.argv[2] ?? 2000)
const ROUNDS = Number(process.argv[3] ?? 3)
const CONCURRENCY = 4
const STREAMS = 200
const dir = mkdtempSync(join(tmpdir(), 'xgate-bench-translate-'))
const userKey = generateKey()
const rootKey = generateKey()
const procs: Subprocess[] = []
const [UP, GW] = [18441, 18442]

const messages = [{ role: 'user', content: 'Say hello' }]
type Case = { name: string; path: string; body: string; anthropic: boolean; stream: string }
const chat = (model: string) => ({
  path: '/v1/chat/completions',
  body: JSON.stringify({ model, messages }),
  stream: JSON.stringify({ model, messages, stream: true }),
  anthropic: false,
})
const msg = (model: string) => ({
  path: '/v1/messages',
  body: JSON.stringify({ model, max_tokens: 64, messages }),
  stream: JSON.stringify({ model, max_tokens: 64, messages, stream: true }),
  anthropic: true,
})
/** Pairs: the same client surface on a native and on a translated model. */
const PAIRS: Array<[Case, Case]> = [
  [
    { name: 'OpenAI client, gpt-4o-mini (native)', ...chat('gpt-4o-mini') },
    { name: 'OpenAI client, claude-haiku-4-5 (translated)', ...chat('claude-haiku-4-5') },
  ],
  [
    { name: 'Anthropic client, claude-haiku-4-5 (native)', ...msg('claude-haiku-4-5') },
    { name: 'Anthropic client, gpt-4o-mini (translated)', ...msg('gpt-4o-mini') },
  ],
]

const start = (name: string, cmd: string[], env: Record<string, string>, port: number) =>
  startProcess(procs, name, cmd, env, port)

const headersOf = (c: Case, chunks = 0): Record<string, string> => {
  const h: Record<string, string> = { 'content-type': 'application/json' }
  if (c.anthropic) {
    h['x-api-key'] = userKey
    h['anthropic-version'] = '2023-06-01'
  } else h.authorization = `Bearer ${userKey}`
  if (chunks) h['x-bench-chunks'] = String(chunks)
  return h
}

/** Gateway CPU µs per call over `n` non-streamed calls, CONCURRENCY at a time. */
async function cpuPerCall(c: Case, pid: number, n: number): Promise<number> {
  let left = n
  const cpu0 = cpuMs(pid)
  const worker = async () => {
    while (left-- > 0) {
      const res = await fetch(`http://127.0.0.1:${GW}${c.path}`, {
        method: 'POST',
        headers: headersOf(c),
        body: c.body,
      })
      if (res.status !== 200) throw new Error(`${c.name}: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return ((cpuMs(pid) - cpu0) * 1000) / n
}

/** Median ms to the first body byte of a 20-chunk stream, sequential requests. */
async function ttfb(c: Case, n: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const res = await fetch(`http://127.0.0.1:${GW}${c.path}`, {
      method: 'POST',
      headers: headersOf(c, 20),
      body: c.stream,
    })
    const reader = res.body!.getReader()
    await reader.read()
    times.push(performance.now() - t0)
    while (!(await reader.read()).done) {}
  }
  return median(times)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** µs per call of the pure work a translated call adds: request, answer and 6 stream events. */
function pureUs(): { chat: number; messages: number } {
  const now = Date.now()
  const time = (path: string, json: Record<string, unknown>, model: string, answer: object) => {
    const endpoint = ENDPOINTS.find((e) => e.path === path)!
    const text = JSON.stringify(answer)
    const n = 20_000
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      const r = routeOf({
        endpoint,
        json,
        mappedModel: model,
        providerOf: catalogueProvider,
        nowMs: now,
        promptTokens: () => 0,
      })!
      r.translation.body(new TextEncoder().encode(text), 200, () => {})
    }
    return ((performance.now() - t0) * 1000) / n
  }
  const chatAnswer = {
    id: 'msg_1',
    content: [{ type: 'text', text: 'Hello from the fake upstream.' }],
    stop_reason: 'end_turn',
    usage: { input_tokens: 12, output_tokens: 8 },
  }
  const openaiAnswer = {
    id: 'chatcmpl-1',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' },
    ],
    usage: { prompt_tokens: 12, completion_tokens: 8 },
  }
  return {
    chat: time(
      '/v1/chat/completions',
      { model: 'claude-haiku-4-5', messages },
      'claude-haiku-4-5',
      chatAnswer,
    ),
    messages: time(
      '/v1/messages',
      { model: 'gpt-4o-mini', max_tokens: 64, messages },
      'gpt-4o-mini',
      openaiAnswer,
    ),
  }
}

try {
  await start('upstream', [process.execPath, 'scripts/bench-upstream.ts'], { PORT: String(UP) }, UP)
  const up = `http://127.0.0.1:${UP}`
  const gw = await start(
    'gateway',
    [process.execPath, 'src/main.ts', 'serve'],
    {
      HOST: '127.0.0.1',
      PORT: String(GW),
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      INIT_USERS: `root::root@bench.local::${rootKey},bench::bench@bench.local::${userKey}::1000000`,
      INIT_KEYS: `sk-bench-openai-0001::${up},sk-bench-anthropic-0002::${up}::anthropic`,
    },
    GW,
  )
  // Warm-up of every path (JIT, connection pools, auth cache).
  for (const pair of PAIRS) for (const c of pair) await cpuPerCall(c, gw.pid, 300)
  const cpu = new Map<string, number[]>()
  const first = new Map<string, number[]>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const pair of PAIRS) {
      for (const c of round % 2 ? [...pair].reverse() : pair) {
        cpu.set(c.name, [...(cpu.get(c.name) ?? []), await cpuPerCall(c, gw.pid, REQUESTS)])
        first.set(c.name, [...(first.get(c.name) ?? []), await ttfb(c, STREAMS)])
      }
    }
  }
  const pure = pureUs()
  console.log(
    `\n${REQUESTS} non-streamed calls (concurrency ${CONCURRENCY}) and ${STREAMS} streams per run, median of ${ROUNDS} alternating rounds, ${new Date().toISOString()}\n`,
  )
  console.log(
    '| client → model | CPU µs / call | Δ CPU µs | Δ CPU µs per round | stream TTFB ms | Δ TTFB ms |',
  )
  console.log('| --- | --: | --: | --- | --: | --: |')
  for (const [native, translated] of PAIRS) {
    const [cn, ct] = [median(cpu.get(native.name)!), median(cpu.get(translated.name)!)]
    const [fn, ft] = [median(first.get(native.name)!), median(first.get(translated.name)!)]
    const rounds = cpu
      .get(translated.name)!
      .map((t, i) => (t - cpu.get(native.name)![i]!).toFixed(0))
      .join(', ')
    console.log(`| ${native.name} | ${cn.toFixed(0)} | — | — | ${fn.toFixed(3)} | — |`)
    console.log(
      `| ${translated.name} | ${ct.toFixed(0)} | ${(ct - cn).toFixed(0)} | ${rounds} | ${ft.toFixed(3)} | ${(ft - fn).toFixed(3)} |`,
    )
  }
  console.log(
    `\n- pure translation work per call (request + answer, in process): chat → Messages ${pure.chat.toFixed(1)} µs, Messages → chat ${pure.messages.toFixed(1)} µs`,
  )
  console.log('- targets: Δ CPU ≤ 30 µs per non-streamed call; Δ TTFB within 1 ms')
} finally {
  for (const p of procs) p.kill()
  await Promise.all(procs.map((p) => p.exited))
  rmSync(dir, { recursive: true, force: true })
}
