// The settings of several nodes (SPEC §11): checked at start with one line naming the setting.
import { describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config'
import { freshDatabase } from '../helpers/engine'
import { freePort } from '../helpers/ports'
import { runCli } from '../helpers/process'
import { tempDir } from '../helpers/gateway'

const load = (env: Record<string, string>) => () => loadConfig({}, env, () => {})
const PG = 'postgres://xgate@127.0.0.1:5432/xgate'

describe('REDIS_URL, NODES, NODE_ID, REDIS_COMMAND_TIMEOUT_MS', () => {
  test('defaults: one node, no Redis, a 250 ms command timeout', () => {
    const c = loadConfig({}, {}, () => {})
    expect(c.REDIS_URL).toBeUndefined()
    expect(c.NODE_ID).toBeUndefined()
    expect([c.NODES, c.REDIS_COMMAND_TIMEOUT_MS]).toEqual([1, 250])
  })

  test('accepted with PostgreSQL', () => {
    const c = loadConfig({}, { DATABASE_URL: PG, REDIS_URL: 'redis://:pw@10.0.0.5:6379/2', NODES: '4', NODE_ID: 'eu-1.a' }, () => {})
    expect([c.REDIS_URL, c.NODES, c.NODE_ID]).toEqual(['redis://:pw@10.0.0.5:6379/2', 4, 'eu-1.a'])
  })

  test('REDIS_URL without DATABASE_URL is refused: SQLite serves one process', () => {
    expect(load({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(ConfigError)
    expect(load({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/REDIS_URL: several nodes need DATABASE_URL/)
  })

  test('a URL that is not redis:// or rediss:// is refused, naming the setting', () => {
    expect(load({ DATABASE_URL: PG, REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/invalid setting REDIS_URL="http:\/\/127.0.0.1:6379": expected redis:\/\//)
  })

  test('NODES below 1, a NODE_ID with spaces and a command timeout of 0 are refused', () => {
    expect(load({ NODES: '0' })).toThrow(/invalid setting NODES="0"/)
    expect(load({ NODE_ID: 'node one' })).toThrow(/invalid setting NODE_ID="node one": 1-64 letters/)
    expect(load({ REDIS_COMMAND_TIMEOUT_MS: '0' })).toThrow(/invalid setting REDIS_COMMAND_TIMEOUT_MS="0"/)
  })

  test('serve with no Redis listening exits at once with one line naming REDIS_URL', async () => {
    const port = await freePort()
    const r = await runCli(['serve', '--port', '0'], {
      DATA_DIR: tempDir('xgate-noredis-'),
      DATABASE_URL: await freshDatabase(),
      REDIS_URL: `redis://127.0.0.1:${port}`,
      LOG_LEVEL: 'error',
    })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(`xgate: REDIS_URL: cannot reach Redis at redis://127.0.0.1:${port}`)
    expect(r.stderr.trim().split('\n').length).toBe(1)
  })
})
