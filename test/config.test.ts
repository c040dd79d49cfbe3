import { describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, loadConfig, parseArgs } from '../src/config'
import { tempDir } from './helpers/gateway'

describe('config', () => {
  test('defaults match the spec', () => {
    const c = loadConfig({}, {})
    expect(c.HOST).toBe('0.0.0.0')
    expect(c.PORT).toBe(3443)
    expect(c.DATA_DIR).toBe('./data')
    expect(c.FLUSH_INTERVAL_MS).toBe(200)
    expect(c.USER_MIN_BALANCE).toBe(2)
    expect(c.CALL_MIN_BALANCE).toBe(1)
    expect(c.USER_API_MIN_BALANCE).toBe(20)
    expect(c.EMAIL_BALANCE).toBe(3)
    expect(c.UPSTREAM_TIMEOUT_MS).toBe(600_000)
    expect(c.LOG_LEVEL).toBe('info')
    expect(Object.isFrozen(c)).toBe(true)
  })

  test('flags beat env, env beats the config file, the file beats defaults', () => {
    const dir = tempDir()
    const file = join(dir, 'xgate.json')
    writeFileSync(file, JSON.stringify({ PORT: 1111, DATA_DIR: '/from/file', EMAIL_BALANCE: 7 }))
    const c = loadConfig({ CONFIG: file, PORT: '3333' }, { PORT: '2222', DATA_DIR: '/from/env' })
    expect(c.PORT).toBe(3333)
    expect(c.DATA_DIR).toBe('/from/env')
    expect(c.EMAIL_BALANCE).toBe(7)
    expect(c.HOST).toBe('0.0.0.0')
  })

  test('CONFIG_FILE names the file too, and its api object maps to API_*', () => {
    const dir = tempDir()
    const file = join(dir, 'c.json')
    writeFileSync(file, JSON.stringify({ api: { listen: '127.0.0.1:10086', services: ['StatsService'] } }))
    const c = loadConfig({}, { CONFIG_FILE: file })
    expect(c.API_LISTEN).toBe('127.0.0.1:10086')
    expect(c.API_SERVICES).toEqual(['StatsService'])
  })

  test.each([
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ FLUSH_INTERVAL_MS: '-5' }, /FLUSH_INTERVAL_MS/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [{ ALLOW_UNPRICED_MODELS: 'maybe' }, /ALLOW_UNPRICED_MODELS/],
    [{ TZ: 'Mars/Olympus' }, /TZ/],
    [{ USER_MIN_BALANCE: '-1' }, /USER_MIN_BALANCE/],
  ])('invalid %p stops start-up with one line naming the setting', (env, name) => {
    let err: unknown
    try {
      loadConfig({}, env as Record<string, string>)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ConfigError)
    const msg = (err as Error).message
    expect(msg).toMatch(name)
    expect(msg.split('\n')).toHaveLength(1)
  })

  test('unknown flags and unknown config-file keys are refused by name', () => {
    expect(() => loadConfig({ PROT: '1' }, {})).toThrow(/--prot/)
    const dir = tempDir()
    const file = join(dir, 'c.json')
    writeFileSync(file, JSON.stringify({ PORTT: 1 }))
    expect(() => loadConfig({ CONFIG: file }, {})).toThrow(/unknown setting PORTT/)
    writeFileSync(file, '{not json')
    expect(() => loadConfig({ CONFIG: file }, {})).toThrow(ConfigError)
  })

  test('parseArgs reads the sub-command, positionals and both flag forms', () => {
    expect(parseArgs([])).toEqual({ command: 'serve', args: [], flags: {} })
    expect(parseArgs(['backup', '/tmp/x.db', '--data-dir', 'd', '--port=9'])).toEqual({
      command: 'backup',
      args: ['/tmp/x.db'],
      flags: { DATA_DIR: 'd', PORT: '9' },
    })
  })
})
