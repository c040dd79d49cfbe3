// Shared set-up for proxy tests: a fake provider, a gateway whose INIT_KEYS point at it, and
// accounts with cards inserted the way the accounts API will (card + ledger row in one step).
import { writerOf } from '../../src/accounts/writer'
import { baseAccount } from '../../src/accounts/bootstrap'
import type { Account } from '../../src/accounts/repo'
import { generateKey, hashKey, partialKey } from '../../src/shared/ids'
import { usdToNano } from '../../src/shared/money'
import {
  startFakeUpstream,
  type FakeUpstream,
  type FakeUpstreamOptions,
} from '../helpers/fake-upstream'
import { startTestGateway, type TestGateway } from '../helpers/gateway'

export type ProxyEnv = { up: FakeUpstream; gw: TestGateway; close(): Promise<void> }

export const OPENAI_SECRET = 'sk-fake-openai-secret-0001'
export const ANTHROPIC_SECRET = 'sk-fake-anthropic-secret-0002'

export async function startProxyEnv(
  env: Record<string, string> = {},
  fake: FakeUpstreamOptions = {},
): Promise<ProxyEnv> {
  const up = await startFakeUpstream(fake)
  const gw = await startTestGateway({
    INIT_KEYS: `${OPENAI_SECRET}::${up.url},${ANTHROPIC_SECRET}::${up.url}::anthropic`,
    ...env,
  })
  return {
    up,
    gw,
    async close() {
      await gw.close()
      await up.stop()
    },
  }
}

let seq = 0

/** A child of root with one card of `creditUsd` (book units), and its key. */
export async function addAccount(
  gw: TestGateway,
  opts: { creditUsd?: number } & Partial<Omit<Account, 'id' | 'dna' | 'keyHash' | 'keyTail'>> = {},
): Promise<{ key: string; account: Account }> {
  const key = generateKey()
  const name = opts.name ?? `tenant${++seq}x`
  const { creditUsd = 100, ...fields } = opts
  const now = Date.now()
  const account = await gw.deps.sql.tx(async (tx) => {
    const w = writerOf(tx)
    const a = await w.accounts.insert(
      {
        ...baseAccount(now),
        parentId: 1,
        name,
        email: `${name}@example.com`,
        alias: name,
        keyHash: hashKey(key),
        keyTail: partialKey(key),
        ...fields,
      },
      '.1.',
    )
    if (creditUsd > 0) {
      await w.cards.addCard(a.id, usdToNano(creditUsd), now, now + 365 * 86_400_000, 'test')
      await w.cards.addLedger(a.id, usdToNano(creditUsd), 'recharge', 'test', now)
    }
    return a
  })
  return { key, account }
}

/** Sum of an account's card balances in the store, nano-USD. */
export async function cardsNano(gw: TestGateway, accountId: number): Promise<number> {
  const r = await gw.deps.sql.get<{ n: number }>(
    'SELECT CAST(COALESCE(SUM(balance_nano), 0) AS BIGINT) AS n FROM cards WHERE account_id = ?',
    [accountId],
  )
  return r!.n
}

export async function usageRows(gw: TestGateway, accountId?: number): Promise<any[]> {
  await gw.deps.flusher.flushNow()
  const sql =
    accountId === undefined
      ? 'SELECT * FROM usage_records ORDER BY id'
      : 'SELECT * FROM usage_records WHERE account_id = ? ORDER BY id'
  return gw.deps.sql.all<any>(sql, accountId === undefined ? [] : [accountId])
}

/** Waits until `cond` holds (settlement of a stream runs after its last byte reached the client). */
export async function until(cond: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await Bun.sleep(5)
  }
}
