// Config file in Xray's own shape, and setting errors that echo what the operator wrote.
import { describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, ConfigSchema, loadConfig, settingsHelp } from '../src/config'
import { tempDir } from './helpers/gateway'

function fileWith(body: unknown): string {
  const file = join(tempDir(), 'config.json')
  writeFileSync(file, JSON.stringify(body))
  return file
}

function errorOf(run: () => unknown): string {
  try {
    run()
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return (e as Error).message
  }
  throw new Error('expected a ConfigError')
}

describe('config file as Xray users write it', () => {
  const xray = {
    api: { tag: 'api', services: ['StatsService'] },
    inbounds: [
      { tag: 'socks', protocol: 'socks', listen: '0.0.0.0', port: 1080 },
      { tag: 'api', protocol: 'dokodemo-door', listen: '127.0.0.1', port: 10099, settings: { address: '127.0.0.1' } },
    ],
    routing: { rules: [{ inboundTag: ['api'], outboundTag: 'api', type: 'field' }] },
    stats: {},
    policy: { system: { statsInboundUplink: true } },
  }

  test('the dokodemo-door inbound tagged api.tag gives API_LISTEN; routing/stats/policy noted once each', () => {
    const notes: string[] = []
    const c = loadConfig({ CONFIG: fileWith(xray) }, {}, (l) => notes.push(l))
    expect(c.API_LISTEN).toBe('127.0.0.1:10099')
    expect(c.API_SERVICES).toEqual(['StatsService'])
    expect(notes).toHaveLength(3)
    for (const k of ['routing', 'stats', 'policy']) expect(notes.filter((n) => n.includes(`"${k}"`))).toHaveLength(1)
  })

  test('an inbound with another tag is not taken', () => {
    const other = { ...xray, inbounds: [{ tag: 'x', protocol: 'dokodemo-door', port: 1 }] }
    expect(loadConfig({ CONFIG: fileWith(other) }, {}, () => {}).API_LISTEN).toBe('127.0.0.1:10085')
  })

  test('any other unknown key is still refused', () => {
    expect(errorOf(() => loadConfig({ CONFIG: fileWith({ ...xray, outbounds: [] }) }, {}, () => {}))).toContain(
      'unknown setting outbounds',
    )
  })
})

describe('setting errors echo the value given', () => {
  test('a number setting from env, flag and file shows what was written, not null', () => {
    expect(errorOf(() => loadConfig({}, { PORT: 'abc' }))).toStartWith('invalid setting PORT="abc": ')
    expect(errorOf(() => loadConfig({ FLUSH_INTERVAL_MS: '5x' }, {}))).toStartWith(
      'invalid setting FLUSH_INTERVAL_MS="5x": ',
    )
    expect(errorOf(() => loadConfig({ CONFIG: fileWith({ PORT: 'abc' }) }, {}))).toStartWith('invalid setting PORT="abc": ')
    expect(errorOf(() => loadConfig({}, { TZ: 'Mars/Base' }))).toStartWith('invalid setting TZ="Mars/Base": ')
  })

  test('the settings table names every setting with its default and meaning', () => {
    const help = settingsHelp()
    expect(help).toMatch(/PORT\s+3443\s+HTTP port/)
    expect(help).toMatch(/DATA_DIR\s+"\.\/data"\s+\S/)
    const rows = help.split('\n').slice(2)
    expect(rows).toHaveLength(Object.keys(ConfigSchema.properties).length)
    for (const r of rows) expect(r, r).toMatch(/^ {2}[A-Z_]+ +\S+ +\S.+$/)
  })
})
