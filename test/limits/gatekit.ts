// Set-up for the limit tests through HTTP: a fake provider, a gateway on an injected fake clock,
// accounts anywhere in the tree, and one chat call helper that returns what a test asserts on.
import { writerOf } from '../../src/accounts/writer'
import { baseAccount } from '../../src/accounts/bootstrap'
import type { Account } from '../../src/accounts/repo'
import { createFakeClock, type FakeClock } from '../../src/shared/clock'
import { generateKey, hashKey, partialKey } from '../../src/shared/ids'
import { usdToNano } from '../../src/shared/money'
import { startGateway } from '../../src/server'
import { createMemoryLogger } from '../../src/shared/log'
import {
  startFakeUpstream,
  type FakeUpstream,
  type FakeUpstreamOptions,
} from '../helpers/fake-upstream'
import { call, startTestGateway, testConfig, withTestDatabase, type TestGateway } from '../helpers/gateway'
import { ANTHROPIC_SECRET, OPENAI_SECRET } from '../proxy/fixtures'

export type LimitEnv = {
  up: FakeUpstream
  gw: TestGateway
  clock: FakeClock
  close(): Promise<void>
}

export function keysEnv(up: FakeUpstream): Record<string, string> {
  return { INIT_KEYS: `${OPENAI_SECRET}::${up.url},${ANTHROPIC_SECRET}::${up.url}::anthropic` }
}

/** A gateway whose clock the test moves; `startMs` defaults to now (cards are dated by real time). */
export async function startLimitEnv(
  env: Record<string, string> = {},
  opts: { startMs?: number; fake?: FakeUpstreamOptions } = {},
): Promise<LimitEnv> {
  const up = await startFakeUpstream(opts.fake)
  const clock = createFakeClock(opts.startMs ?? Date.now())
  const gw = await startTestGateway({ ...keysEnv(up), ...env }, { clock })
  return {
    up,
    gw,
    clock,
    async close() {
      await gw.close()
      await up.stop()
    },
  }
}

/** A second gateway process on the same DATA_DIR (the first must be stopped). */
export async function restartOn(dataDir: string, env: Record<string, string>, clock: FakeClock) {
  const config = await withTestDatabase(testConfig(env, dataDir).config)
  const log = createMemoryLogger()
  return startGateway(config, { clock, log })
}

let seq = 0
type Fields = Partial<Omit<Account, 'id' | 'dna' | 'keyHash' | 'keyTail' | 'parentId'>>

/** An account under `parent` (root when absent) with one card of `creditUsd`, and its key. */
export async function addUnder(
  gw: { deps: TestGateway['deps'] },
  parent: Account | null,
  opts: { creditUsd?: number } & Fields = {},
): Promise<{ key: string; account: Account }> {
  const key = generateKey()
  const { creditUsd = 100, ...fields } = opts
  const name = fields.name ?? `limits${++seq}x${Math.floor(Math.random() * 1e6)}`
  const now = Date.now()
  const account = await gw.deps.sql.tx(async (tx) => {
    const w = writerOf(tx)
    const a = await w.accounts.insert(
      {
        ...baseAccount(now),
        parentId: parent?.id ?? 1,
        name,
        email: `${name}@example.com`,
        alias: name,
        keyHash: hashKey(key),
        keyTail: partialKey(key),
        ...fields,
      },
      parent?.dna ?? '.1.',
    )
    if (creditUsd > 0) {
      await w.cards.addCard(a.id, usdToNano(creditUsd), now, now + 365 * 86_400_000, 'test')
      await w.cards.addLedger(a.id, usdToNano(creditUsd), 'recharge', 'test', now)
    }
    return a
  })
  return { key, account }
}

export type ChatOpts = {
  model?: string
  maxTokens?: number
  content?: string
  headers?: Record<string, string>
}

/** One non-stream chat completion. */
export function chat(gw: { url: string }, key: string, o: ChatOpts = {}) {
  const body: Record<string, unknown> = {
    model: o.model ?? 'gpt-4o-mini',
    messages: [{ role: 'user', content: o.content ?? 'hi' }],
  }
  if (o.maxTokens !== undefined) body.max_tokens = o.maxTokens
  return call(gw, 'POST', '/v1/chat/completions', { key, body, headers: o.headers })
}

/** Status codes of `n` calls made one after another. */
export async function statuses(gw: { url: string }, key: string, n: number, o: ChatOpts = {}) {
  const out: number[] = []
  for (let i = 0; i < n; i++) out.push((await chat(gw, key, o)).status)
  return out
}

export const S = 1000
export const MIN = 60 * S
