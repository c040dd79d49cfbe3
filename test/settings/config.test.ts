import { afterAll, describe, expect, test } from 'bun:test'
import { ConfigError, loadConfig } from '../../src/config'
import { loadStoredSettings } from '../../src/settings/repo'
import { createSettings } from '../../src/settings/service'
import { createEvents } from '../../src/shared/events'
import { generateKey } from '../../src/shared/ids'
import { createMemoryLogger } from '../../src/shared/log'
import { addAccount, call, makeApp, opRows } from '../reports/fixtures'

const ENV = { MODEL_MAPPER: 'gpt-4=gpt-4o', EMAIL_PASS: 'env-secret', SWITCH_OVER: '1=2' }
const t = await makeApp(ENV)
afterAll(() => t.close())
const user = await addAccount(t, null, { creditUsd: 100 })
const changes: string[][] = []
t.deps.events.onSettingsChanged((e) => changes.push(e.keys))
const stored = async () => (await t.deps.sql.all('SELECT key, value FROM settings ORDER BY key'))

describe('GET /x-config', () => {
  test('the keys that have a value as POSTable strings, every source, secrets masked', async () => {
    const r = await call(t, 'GET', '/x-config', { key: t.rootKey })
    expect(r.status, r.text).toBe(200)
    expect(r.body.success).toBe(true)
    expect(r.body.configs.MODEL_MAPPER).toBe('gpt-4=gpt-4o')
    expect(r.body.configs.EMAIL_PASS).toBe('***')
    expect(r.body.configs).not.toHaveProperty('LEVEL_MAPPER')
    expect(r.body.configs.EMAIL_BALANCE).toBe('3')
    expect(r.body.configs.ALLOW_UNPRICED_MODELS).toBe('false')
    for (const v of Object.values(r.body.configs)) expect(typeof v).toBe('string')
    expect(r.body.sources).toMatchObject({
      MODEL_MAPPER: 'env',
      LEVEL_MAPPER: 'unset',
      EMAIL_PASS: 'env',
      EMAIL_BALANCE: 'default',
      ALLOW_UNPRICED_MODELS: 'default',
    })
    expect(r.text).not.toContain('env-secret')
    expect(Object.keys(r.body.configs).sort()).toEqual(
      ['ALLOW_UNPRICED_MODELS', 'EMAIL_BALANCE', 'EMAIL_PASS', 'MODEL_MAPPER', 'SWITCH_OVER'],
    )
    expect(Object.keys(r.body.sources)).toEqual(
      expect.arrayContaining(['LEVEL_MAPPER', 'RESOURCES', 'MODEL_PRICES', 'XAI_MAIL', 'EMAIL_SMTP']),
    )
  })

  test('non-root is 403, a wrong key 401', async () => {
    for (const [m, body] of [
      ['GET', undefined],
      ['POST', { XAI_MAIL: 'a@b.io' }],
      ['DELETE', { keys: ['XAI_MAIL'] }],
    ] as const) {
      const r = await call(t, m, '/x-config', { key: user.key, body })
      expect(r.status, `${m} ${r.text}`).toBe(403)
      expect(r.body.error.code).toBe('forbidden')
      expect((await call(t, m, '/x-config', { key: generateKey(), body })).status).toBe(401)
    }
    expect(await stored()).toEqual([])
    expect(await opRows(t, 'set_config')).toEqual([])
  })
})

describe('POST /x-config', () => {
  test('validated, stored, applied at once and logged', async () => {
    expect(t.deps.settings.modelMapper().map((m) => [m.pattern, m.target])).toEqual([
      ['gpt-4', 'gpt-4o'],
    ])
    const body = {
      MODEL_MAPPER: 'claude-*=claude-3-5-sonnet, gpt-4o=gpt-4o-mini',
      LEVEL_MAPPER: { 'o1*': 3 },
      SWITCH_OVER: '1=2,2=3',
      RESOURCES: '/v1/chat/completions /v1/messages',
      MODEL_LIMITS: { 'gpt-4o': { rpm: 60, tpm: 100_000 } },
      MODEL_PRICES: '{"my-model": {"input": 1.5, "output": 2, "cached_input": 0.5}}',
      EMAIL_PASS: 'new-secret',
      EMAIL_PORT: 587,
      EMAIL_TLS: true,
      EMAIL_SENDER: 'xgate <alerts@example.com>',
      XAI_MAIL: 'ops@example.com, boss@example.com',
    }
    const r = await call(t, 'POST', '/x-config', { key: t.rootKey, body })
    expect(r.status, r.text).toBe(200)
    expect(r.body.updated.sort()).toEqual(Object.keys(body).sort())
    expect(r.body.configs.EMAIL_PASS).toBe('***')
    expect(r.body.sources.MODEL_MAPPER).toBe('stored')
    // Objects and numbers come back as the strings a client would POST; posting them back is a no-op.
    expect(r.body.configs.LEVEL_MAPPER).toBe('{"o1*":3}')
    expect(r.body.configs.EMAIL_PORT).toBe('587')
    expect(r.body.configs.EMAIL_TLS).toBe('true')
    const s = t.deps.settings
    expect(s.modelMapper().map((m) => [m.pattern, m.target])).toEqual([
      ['gpt-4o', 'gpt-4o-mini'],
      ['claude-*', 'claude-3-5-sonnet'],
    ])
    expect(s.modelMapper()[1]!.re.test('claude-3-opus')).toBe(true)
    expect(s.levelMapper()[0]).toMatchObject({ pattern: 'o1*', level: 3 })
    expect([...s.switchOver()]).toEqual([
      [1, 2],
      [2, 3],
    ])
    expect(s.resources()).toEqual(['/v1/chat/completions', '/v1/messages'])
    expect(s.modelLimits()).toEqual({ 'gpt-4o': { rpm: 60, tpm: 100_000 } })
    expect(s.modelPrices()).toEqual({ 'my-model': { input: 1.5, output: 2, cached_input: 0.5 } })
    expect(s.mail()).toMatchObject({
      pass: 'new-secret',
      port: 587,
      tls: true,
      sender: 'xgate <alerts@example.com>',
      xaiMail: ['ops@example.com', 'boss@example.com'],
      balanceUsd: 3,
    })
    expect(changes.at(-1)?.sort()).toEqual(Object.keys(body).sort())
    const rows = await stored() as Array<{ key: string; value: string }>
    expect(rows.map((x) => x.key).sort()).toEqual(Object.keys(body).sort())
    const log = (await opRows(t, 'set_config'))[0]!
    expect(log.operator_id).toBe(1)
    expect(log.details.values.EMAIL_PASS).toBe('***')
    expect(JSON.stringify(log)).not.toContain('new-secret')
    const back = Object.fromEntries(
      Object.keys(body)
        .filter((k) => k !== 'EMAIL_PASS')
        .map((k) => [k, r.body.configs[k]]),
    )
    const again = await call(t, 'POST', '/x-config', { key: t.rootKey, body: back })
    expect(again.status, again.text).toBe(200)
    expect(again.body.configs).toEqual(r.body.configs)
    expect(s.modelLimits()).toEqual({ 'gpt-4o': { rpm: 60, tpm: 100_000 } })
  })

  test('one bad key refuses the whole request and names the key', async () => {
    const before = JSON.stringify(await stored())
    const logs = (await opRows(t, 'set_config')).length
    const r = await call(t, 'POST', '/x-config', {
      key: t.rootKey,
      body: { XAI_MAIL: 'fine@example.com', SWITCH_OVER: '1=1' },
    })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.message).toStartWith('SWITCH_OVER')
    expect(JSON.stringify(await stored())).toBe(before)
    expect(await opRows(t, 'set_config')).toHaveLength(logs)
    expect(t.deps.settings.mail().xaiMail).toEqual(['ops@example.com', 'boss@example.com'])
  })

  const bad: Array<[string, unknown]> = [
    ['MODEL_MAPPER', 'gpt-4'],
    ['MODEL_MAPPER', 'a=b*'],
    ['MODEL_MAPPER', '{"a": 1}'],
    ['MODEL_MAPPER', 42],
    ['LEVEL_MAPPER', 'gpt-4=11'],
    ['LEVEL_MAPPER', { 'gpt-4': 'x' }],
    ['SWITCH_OVER', '1=2,1=3'],
    ['SWITCH_OVER', 'a=2'],
    ['RESOURCES', '/v1/../etc'],
    ['RESOURCES', 'v1/chat'],
    ['MODEL_LIMITS', '{"gpt-4o": {"rpm": -1}}'],
    ['MODEL_LIMITS', { 'gpt-4o': { rpd: 5 } }],
    ['MODEL_LIMITS', 'not json'],
    ['MODEL_PRICES', { 'gpt-4o': { input: -1 } }],
    ['MODEL_PRICES', { 'gpt-4o': { input: 'cheap' } }],
    ['MODEL_PRICES', { 'gpt-4o': { per_token: 1 } }],
    ['MODEL_PRICES', { 'gpt-4o': {} }],
    ['MODEL_PRICES', [1, 2]],
    ['XAI_MAIL', 'not-an-address'],
    ['EMAIL_SMTP', 'smtp host'],
    ['EMAIL_PORT', 70_000],
    ['EMAIL_TLS', 'maybe'],
    ['EMAIL_SENDER', 'nobody'],
    ['EMAIL_BALANCE', -1],
    ['EMAIL_PASS', 5],
    ['NO_SUCH_KEY', 'x'],
    ['MODEL_MAPPER', null],
  ]
  for (const [key, value] of bad) {
    test(`${key}=${JSON.stringify(value)} → 400 naming ${key}`, async () => {
      const r = await call(t, 'POST', '/x-config', { key: t.rootKey, body: { [key]: value } })
      expect(r.status, r.text).toBe(400)
      expect(r.body.error.message, r.text).toStartWith(`${key}`)
    })
  }

  test('an empty body or a non-object is 400', async () => {
    expect((await call(t, 'POST', '/x-config', { key: t.rootKey, body: {} })).status).toBe(400)
    expect((await call(t, 'POST', '/x-config', { key: t.rootKey, body: '[1]' })).status).toBe(400)
    expect((await call(t, 'POST', '/x-config', { key: t.rootKey, body: '{bad' })).status).toBe(400)
  })
})

describe('DELETE /x-config', () => {
  test('puts keys back to the environment default, at once, logged', async () => {
    const r = await call(t, 'DELETE', '/x-config', {
      key: t.rootKey,
      body: { keys: ['MODEL_MAPPER', 'LEVEL_MAPPER', 'EMAIL_SMTP'] },
    })
    expect(r.status, r.text).toBe(200)
    expect(r.body.reset).toEqual(['MODEL_MAPPER', 'LEVEL_MAPPER', 'EMAIL_SMTP'])
    expect(r.body.removed).toEqual(['MODEL_MAPPER', 'LEVEL_MAPPER'])
    expect(r.body.configs.MODEL_MAPPER).toBe('gpt-4=gpt-4o')
    expect(r.body.sources.MODEL_MAPPER).toBe('env')
    expect(t.deps.settings.modelMapper().map((m) => m.target)).toEqual(['gpt-4o'])
    expect(t.deps.settings.levelMapper()).toEqual([])
    expect(changes.at(-1)).toEqual(['MODEL_MAPPER', 'LEVEL_MAPPER', 'EMAIL_SMTP'])
    expect((await opRows(t, 'delete_config'))[0]!.details).toEqual({
      keys: ['MODEL_MAPPER', 'LEVEL_MAPPER', 'EMAIL_SMTP'],
      removed: ['MODEL_MAPPER', 'LEVEL_MAPPER'],
    })
  })

  test('an unknown key refuses the whole request', async () => {
    const before = JSON.stringify(await stored())
    const r = await call(t, 'DELETE', '/x-config', {
      key: t.rootKey,
      body: { keys: ['SWITCH_OVER', 'NOPE'] },
    })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.message).toContain('NOPE')
    expect(JSON.stringify(await stored())).toBe(before)
    expect(
      (await call(t, 'DELETE', '/x-config', { key: t.rootKey, body: { keys: [] } })).status,
    ).toBe(400)
  })
})

describe('the settings store', () => {
  test('stored values survive a restart and beat the environment', async () => {
    const again = createSettings(t.deps.config, await loadStoredSettings(t.deps.sql), createEvents())
    expect([...again.switchOver()]).toEqual([
      [1, 2],
      [2, 3],
    ])
    expect(again.mail().pass).toBe('new-secret')
  })

  test('a bad environment default stops start-up naming the setting', async () => {
    const config = loadConfig({}, { DATA_DIR: '/nonexistent', TZ: 'UTC', SWITCH_OVER: '1=x' })
    const stored = await loadStoredSettings(t.deps.sql)
    expect(() => createSettings(config, stored, createEvents())).toThrow(ConfigError)
    expect(() => createSettings(config, stored, createEvents())).toThrow(/SWITCH_OVER/)
  })

  test('a stored value that no longer parses is skipped with a warning', async () => {
    await t.deps.sql.run("INSERT INTO settings (key, value, updated_at) VALUES ('EMAIL_PORT', '\"abc\"', 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    const log = createMemoryLogger()
    const again = createSettings(t.deps.config, await loadStoredSettings(t.deps.sql), createEvents(), log)
    expect(again.mail().port).toBeUndefined()
    expect(log.lines).toEqual([
      expect.objectContaining({ msg: 'stored setting ignored', key: 'EMAIL_PORT' }),
    ])
    await t.deps.sql.run("DELETE FROM settings WHERE key = 'EMAIL_PORT'")
  })
})

test('every entry of the embedded price table passes MODEL_PRICES validation', async () => {
  const { parseModelPrices } = await import('../../src/settings/parse')
  const table = (await import('../../src/billing/prices.json')).default as Record<string, unknown>
  expect(Object.keys(table).length).toBeGreaterThan(10)
  const r = parseModelPrices(table)
  expect(r.ok, JSON.stringify(r)).toBe(true)
})
