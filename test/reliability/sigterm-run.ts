// The SIGTERM scenario of the quick test and the soak: `xgate serve` under load with long streams
// in flight; they finish, every call that reached the upstream is recorded, exit 0.
import { openDataOf } from '../helpers/engine'
import { expect } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { generateKey } from '../../src/shared/ids'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { tempDir } from '../helpers/gateway'
import { admin, chat, startLoad, type CallResult } from '../helpers/load'
import { runCli, startServe, type Child } from '../helpers/process'
import { dbFacts, expectBooksBalanced } from './books'

const SECRET = 'sk-fake-sigterm-upstream-0001'
/** Long streams: 20 content chunks 40 ms apart, about 0.8 s each. */
const LONG = { chunks: 20, chunkDelayMs: 40 }
const LONG_MARK = 'long stream please'

export type SigtermOptions = {
  cycles: number
  /** Load before each SIGTERM, ms. */
  loadMs: number
  concurrency: number
  accounts: number
  /** Long streams in flight at each SIGTERM. */
  longStreams: number
}

export type SigtermCycle = {
  calls: number
  /** Calls made after the stop began that got no answer (connection refused or closed). */
  refused: number
  completed: number
  longStreams: number
  upstreamRequests: number
  records: number
  stopMs: number
}

export type SigtermFigures = { cycles: SigtermCycle[]; elapsedMs: number }

/** Starts a stream and resolves once its first content chunk arrived; `rest` reads the others. */
async function longStream(
  url: string,
  key: string,
  label: string,
): Promise<{ rest: Promise<CallResult> }> {
  const started = Date.now()
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: LONG_MARK }],
      stream: true,
    }),
  })
  expect(res.status, `long stream ${label}`).toBe(200)
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  let raw = ''
  while (!raw.includes('"content":"')) {
    const r = await reader.read()
    if (r.done) throw new Error(`long stream ${label} ended before its first chunk: ${raw}`)
    raw += decoder.decode(r.value, { stream: true })
  }
  const rest = (async (): Promise<CallResult> => {
    let error: string | null = null
    try {
      for (;;) {
        const r = await reader.read()
        if (r.done) break
        raw += decoder.decode(r.value, { stream: true })
      }
    } catch (e) {
      error = (e as Error).message
    }
    const sawDone = raw.includes('data: [DONE]')
    return {
      kind: 'stream',
      label,
      requestId: res.headers.get('x-request-id'),
      status: res.status,
      complete: sawDone && error === null,
      body: null,
      text: raw,
      sawDone,
      error: error ?? (sawDone ? null : `no [DONE] in: ${raw.slice(-200)}`),
      startedAtMs: started,
      endedAtMs: Date.now(),
    }
  })()
  return { rest }
}

export async function runSigtermCycles(opts: SigtermOptions): Promise<SigtermFigures> {
  const started = Date.now()
  const dir = tempDir('xgate-sigterm-')
  const rootKey = generateKey()
  const up = await startFakeUpstream({
    chunks: 4,
    chunkDelayMs: 2,
    maxCalls: 0,
    behavior: (r) => (JSON.stringify(r.body).includes(LONG_MARK) ? LONG : undefined),
  })
  const env = {
    DATA_DIR: dir,
    INIT_USERS: `root::root@example.com::${rootKey}`,
    INIT_KEYS: `${SECRET}::${up.url}`,
    // Far away: what is on disk afterwards was written by the graceful stop itself.
    FLUSH_INTERVAL_MS: '60000',
    SHUTDOWN_GRACE_MS: '20000',
    LOG_LEVEL: 'error',
  }
  let child: Child | null = null
  const figures: SigtermCycle[] = []
  try {
    child = await startServe(env)
    const accounts: Array<{ name: string; key: string }> = []
    for (let i = 0; i < opts.accounts; i++) {
      const name = `stopload${i}`
      const r = await admin(child.url, rootKey, 'POST', '/x-users', {
        Name: name,
        Email: `${name}@example.com`,
        CreditGranted: 50,
      })
      expect(r.status, r.error ?? '').toBe(200)
      accounts.push({ name, key: r.body.User.SecretKey })
    }
    let before = new Set<string>()
    for (let c = 0; c < opts.cycles; c++) {
      if (!child) child = await startServe(env)
      const url = child.url
      up.reset()
      const load = startLoad({
        concurrency: opts.concurrency,
        task: async (n) => {
          const a = accounts[n % accounts.length]!
          const r = await chat(url, a.key, {
            stream: n % 2 === 0,
            label: a.name,
            timeoutMs: 15_000,
          })
          // Refused while the server stops: do not spin.
          if (r.status === 0) await Bun.sleep(10)
          return r
        },
      })
      await Bun.sleep(opts.loadMs)
      const longs = await Promise.all(
        Array.from({ length: opts.longStreams }, (_, i) => {
          const a = accounts[i % accounts.length]!
          return longStream(url, a.key, `${a.name} long ${i}`)
        }),
      )
      const stopAt = Date.now()
      child.proc.kill('SIGTERM')
      // The load goes on while the server stops: new calls are refused, those in flight finish.
      const code = await child.proc.exited
      const stopMs = Date.now() - stopAt
      const stderr = child.stderr()
      child = null
      const results = await load.stop()
      const longResults = await Promise.all(longs.map((l) => l.rest))
      expect(code, `exit code after SIGTERM; stderr: ${stderr}`).toBe(0)
      expect(
        longResults.filter((r) => !r.complete).map((r) => `${r.label}: ${r.error}`),
        'streams in flight at SIGTERM that did not reach [DONE]',
      ).toEqual([])

      const db = await openDataOf(dir)
      let facts
      try {
        facts = await dbFacts(db)
        await expectBooksBalanced(db, facts)
      } finally {
        await db.close()
      }
      // A call the server accepted ran to its end; one it no longer accepted got no answer at all.
      expect(
        results.filter((r) => !r.complete && r.status !== 0).map((r) => `${r.label}: ${r.error}`),
        'calls cut short by the stop',
      ).toEqual([])
      expect(
        results.some((r) => r.status === 0 && r.startedAtMs > stopAt),
        'calls made while the server was stopping were refused',
      ).toBe(true)
      const all = [...results, ...longResults]
      const completed = all.filter((r) => r.complete)
      expect(
        completed.filter((r) => !facts.usageIds.has(r.requestId!)).map((r) => r.requestId),
        'completed calls without a usage record after a graceful stop',
      ).toEqual([])
      const mine = facts.usage.filter((u) => !before.has(u.request_id))
      const t = up.tally
      const { byKey: _k, byPath: _p, ...counts } = t
      const detail = `records ${mine.length}; upstream ${JSON.stringify(counts)}`
      // Every call that reached the upstream finished there and has exactly one record.
      expect(t.ok, detail).toBe(t.requests)
      expect(mine.length, detail).toBe(t.requests)
      expect(
        mine.filter((u) => u.status !== 200 || u.estimated !== 0).map((u) => u.request_id),
        'records of calls that did not end normally',
      ).toEqual([])
      for (const r of longResults) {
        const u = facts.byRequest.get(r.requestId!)
        expect(u?.completion_tokens, `usage of ${r.label}`).toBe(8)
      }
      before = facts.usageIds
      figures.push({
        calls: all.length,
        refused: all.length - completed.length,
        completed: completed.length,
        longStreams: longResults.length,
        upstreamRequests: t.requests,
        records: mine.length,
        stopMs,
      })
      const check = await runCli(['check'], { DATA_DIR: dir })
      expect(check.code, `xgate check: ${check.stdout}`).toBe(0)
    }
    return { cycles: figures, elapsedMs: Date.now() - started }
  } finally {
    if (child) {
      child.proc.kill('SIGKILL')
      await child.proc.exited
    }
    await up.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
