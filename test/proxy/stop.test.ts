// A graceful stop waits for a stream in flight to reach its last byte, then flushes its usage.
import { openDataOf } from '../helpers/engine'
import { expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import OpenAI from 'openai'
import { startFakeUpstream } from '../helpers/fake-upstream'
import { startGateway } from '../../src/server'
import { testConfig, withTestDatabase } from '../helpers/gateway'
import { createMemoryLogger } from '../../src/shared/log'
import { OPENAI_SECRET } from './fixtures'

test('stop() lets a running stream finish and persists its usage record and charge', async () => {
  const up = await startFakeUpstream({ chunks: 8, chunkDelayMs: 25 })
  const made = testConfig({
    INIT_KEYS: `${OPENAI_SECRET}::${up.url}`,
    FLUSH_INTERVAL_MS: '60000',
  })
  const { rootKey } = made
  const config = await withTestDatabase(made.config)
  const gw = await startGateway(config, { log: createMemoryLogger() })
  try {
    const client = new OpenAI({ apiKey: rootKey, baseURL: gw.url + '/v1', maxRetries: 0 })
    const s = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    })
    const it = s[Symbol.asyncIterator]()
    await it.next()
    const stopping = gw.stop()
    let text = ''
    for (let r = await it.next(); !r.done; r = await it.next())
      text += r.value.choices[0]?.delta?.content ?? ''
    await stopping
    expect(text.length).toBeGreaterThan(10)
    const db = await openDataOf(config.DATA_DIR)
    const rows = await db.all('SELECT status, completion_tokens, cost_nano FROM usage_records')
    await db.close()
    expect(rows).toEqual([{ status: 200, completion_tokens: 8, cost_nano: 12 * 150 + 8 * 600 }])
  } finally {
    await up.stop()
    rmSync(config.DATA_DIR, { recursive: true, force: true })
  }
})
