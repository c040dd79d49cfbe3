// Who is online is kept from proxied calls only when StatsService (its only reader) is enabled.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { onlineMapName } from '../../src/control/online'
import { addAccount, startProxyEnv, until, type ProxyEnv } from '../proxy/fixtures'

const chat = (env: ProxyEnv, key: string) =>
  fetch(env.gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  })

describe('online tracking of proxied calls', () => {
  let withStats: ProxyEnv
  let without: ProxyEnv
  beforeAll(async () => {
    withStats = await startProxyEnv(
      { API_LISTEN: '127.0.0.1:0', API_SERVICES: 'StatsService' },
      { latencyMs: 300 },
    )
    without = await startProxyEnv({}, { latencyMs: 0 })
  })
  afterAll(async () => {
    await withStats.close()
    await without.close()
  })

  test('with StatsService: the client is online while its call runs, and the map stays', async () => {
    const { key, account } = await addAccount(withStats.gw)
    const online = withStats.gw.deps.stats.online
    const name = onlineMapName(account.name)
    const pending = chat(withStats, key)
    await until(() => online.count(name) === 1)
    expect(Object.keys(online.ips(name)!)).toEqual(['127.0.0.1'])
    expect((await pending).status).toBe(200)
    await until(() => withStats.gw.deps.inFlight.count() === 0)
    expect(online.count(name)).toBe(0)
  })

  test('without StatsService: calls leave no online bookkeeping', async () => {
    const { key, account } = await addAccount(without.gw)
    const res = await chat(without, key)
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    expect(without.gw.deps.stats.online.count(onlineMapName(account.name))).toBeUndefined()
    expect(without.gw.deps.stats.online.users()).toEqual([])
  })
})
