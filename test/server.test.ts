import { describe, expect, test } from 'bun:test'
import { openDataOf } from './helpers/engine'
import { join } from 'node:path'
import { startTestGateway } from './helpers/gateway'

describe('graceful stop', () => {
  test('stop() flushes pending write-behind rows before closing the store', async () => {
    const gw = await startTestGateway({ FLUSH_INTERVAL_MS: '60000' })
    let pending = ['K1', 'K2', 'K3']
    gw.deps.flusher.register<string>({
      name: 'test',
      pending: () => pending.length,
      drain: () => {
        const out = pending
        pending = []
        return out
      },
      write: async (tx, rows) => {
        for (const k of rows) await tx.run("INSERT INTO settings (key, value, updated_at) VALUES (?, '1', 0)", [k])
      },
    })
    await gw.stop()
    const db = await openDataOf(gw.dataDir)
    expect(await db.all("SELECT key FROM settings WHERE key LIKE 'K%' ORDER BY key")).toEqual([{ key: 'K1' }, { key: 'K2' }, { key: 'K3' }])
    await db.close()
  })

  test('stop() waits for calls in flight, then stops accepting', async () => {
    const gw = await startTestGateway({ SHUTDOWN_GRACE_MS: '5000' })
    const done = gw.deps.inFlight.begin()
    let stopped = false
    const stopping = gw.stop().then(() => (stopped = true))
    await Bun.sleep(150)
    expect(stopped).toBe(false)
    done()
    await stopping
    expect(stopped).toBe(true)
    await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow()
  })

  test('the wait for calls in flight is bounded by SHUTDOWN_GRACE_MS', async () => {
    const gw = await startTestGateway({ SHUTDOWN_GRACE_MS: '200' })
    gw.deps.inFlight.begin()
    const t0 = performance.now()
    await gw.stop()
    const waited = performance.now() - t0
    expect(waited).toBeGreaterThanOrEqual(150)
  })
})
