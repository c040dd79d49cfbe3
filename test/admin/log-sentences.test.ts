// /dashboard/x-user-logs in words: every recorded action reads as a sentence in `details` (the
// seed's "Created user with email: …"), its structured details follow in `data`, and created_at
// is `YYYY-MM-DD HH:MM:SS` in TZ.
import { beforeAll, describe, expect, test } from 'bun:test'
import { OP_ACTIONS } from '../../src/logs/repo'
import { sentenceOf, WORDED_ACTIONS } from '../../src/logs/sentences'
import { localDateTime } from '../../src/logs/service'
import { useGateway } from '../accounts/helpers'

const h = useGateway({ TZ: 'Asia/Shanghai' })
let logs: Array<Record<string, any>> = []
let kid: { id: number; name: string; key: string }

beforeAll(async () => {
  const root = h.gw.rootKey
  const ok = async (method: string, path: string, key: string, body?: unknown) => {
    const r = await h.req(method, path, key, body)
    expect(r.status, `${method} ${path}: ${r.text}`).toBe(200)
    return r
  }
  const day = localDateTime(h.clock.now(), 'Asia/Shanghai').slice(0, 10)
  const name = h.uniq('prod')
  const made = await ok('POST', '/x-users', root, {
    Name: name,
    Email: `${name}@company.com`,
    CreditGranted: 500,
  })
  kid = { id: made.body.User.ID, name, key: made.body.User.SecretKey }
  await ok('PUT', `/x-users/${kid.id}`, root, { Tier: 3, Alias: 'Production' })
  await ok('PUT', `/x-users/${kid.id}`, root, { CreditGranted: 100, Days: 30 })
  await ok('PUT', `/x-users/${kid.id}`, root, { CreditGranted: -50 })
  await ok('POST', '/x-self', kid.key, { confirm: `${day}-ROTATE-SELF` })
  await ok('POST', '/x-root', root, { name, confirm: `${day}-ROTATE-ROOT` })
  const gone = await h.child(root, { CreditGranted: 20 })
  await ok('DELETE', `/x-users/${gone.id}`, root)
  const key = await ok('POST', '/x-keys', root, {
    SecretKey: 'sk-test-sentences-0123456789',
    Name: 'words-key',
    Level: 2,
    Provider: 'https://api.anthropic.com',
  })
  await ok('PUT', `/x-keys/${key.body.Key.ID}`, root, { Status: false })
  await ok('DELETE', `/x-keys/${key.body.Key.ID}`, root)
  await ok('POST', '/x-config', root, { XAI_MAIL: 'admin@proxyxai.com' })
  await ok('DELETE', '/x-config', root, { keys: ['XAI_MAIL'] })
  await ok('POST', '/x-news', root, { title: 'New Feature Release', content: 'Hello', days: 14 })
  await ok('POST', `/x-news/${kid.id}`, root, { title: 'Account Update', content: 'Updated' })
  await ok('DELETE', '/x-news', root)
  const r = await ok('GET', '/dashboard/x-user-logs?size=100', root)
  logs = r.body.logs
})

/** The row of `action` about `kid` when there is one (logs are newest first), else the newest. */
const first = (action: string) => {
  const l =
    logs.find((x) => x.action === action && x.target_id === kid.id) ??
    logs.find((x) => x.action === action)
  expect(l, `no ${action} row in ${JSON.stringify(logs.map((x) => x.action))}`).toBeDefined()
  return l!
}

describe('details is a sentence, data the structured details', () => {
  test('add_user reads as in the XAI reference', () => {
    const l = first('add_user')
    expect(l.details).toBe(`Created user with email: ${kid.name}@company.com`)
    expect(l.data, JSON.stringify(l)).toMatchObject({ name: kid.name, credit: 500 })
  })

  const expected: Array<[string, RegExp]> = [
    ['update_user', /^Updated user prod-\S+: (Alias to "Production", Tier to 3|Tier to 3, Alias to "Production")$/],
    // Root mints what it grants: no cost is named.
    ['recharge', /^Recharged user prod-\S+ with 100 USD valid 30 days$/],
    ['deduct', /^Deducted 50 USD from user prod-\S+ \(refund [\d.]+ USD\)$/],
    ['delete_user', /^Deleted user acct-\S+; refunded [\d.]+ USD to the parent$/],
    ['rotate_self', /^Rotated own key of prod-\S+; the new key ends in \S{8}$/],
    ['rotate_root', /^Rotated the key of prod-\S+; the new key ends in \S{8}$/],
    ['add_key', /^Added upstream key words-key \(level 2, https:\/\/api\.anthropic\.com\/?\)$/],
    ['update_key', /^Updated upstream key words-key \(level 2, https:\/\/api\.anthropic\.com\/?, disabled\)$/],
    ['delete_key', /^Deleted upstream key words-key/],
    ['set_config', /^Set config XAI_MAIL$/],
    ['delete_config', /^Reset config XAI_MAIL to the default$/],
    ['add_news', /^Posted (system news: "New Feature Release" for 14 days|news for \S+: "Account Update" for 32 days)$/],
    ['delete_news', /^Deleted 1 item of system news$/],
  ]
  for (const [action, re] of expected) {
    test(`${action}: ${re.source.slice(1, 50)}…`, () => {
      const l = first(action)
      expect(l.details, JSON.stringify(l)).toMatch(re)
      expect(typeof l.data, JSON.stringify(l)).toBe('object')
    })
  }

  test('every row: details a string, data an object, the fields of the reference', () => {
    expect(logs.length).toBeGreaterThanOrEqual(15)
    for (const l of logs) {
      expect(typeof l.details, JSON.stringify(l)).toBe('string')
      expect(l.data && typeof l.data === 'object', JSON.stringify(l)).toBe(true)
      for (const f of ['id', 'action', 'operator_id', 'target_id', 'created_at'])
        expect(f in l, JSON.stringify(l)).toBe(true)
    }
  })
})

describe('created_at', () => {
  test('is YYYY-MM-DD HH:MM:SS in TZ (Asia/Shanghai is UTC+8)', () => {
    const now = h.clock.now()
    for (const l of logs) expect(l.created_at).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
    const utc = new Date(now).toISOString().replace('T', ' ').slice(0, 19)
    const local = new Date(now + 8 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19)
    expect(utc).not.toBe(local)
    expect(first('add_user').created_at).toBe(local)
  })

  test('localDateTime: 24-hour clock, midnight as 00, other zones', () => {
    const ms = Date.UTC(2025, 0, 15, 16, 0, 5)
    expect(localDateTime(ms, 'UTC')).toBe('2025-01-15 16:00:05')
    expect(localDateTime(ms, 'Asia/Shanghai')).toBe('2025-01-16 00:00:05')
    expect(localDateTime(ms, 'America/New_York')).toBe('2025-01-15 11:00:05')
  })
})

describe('sentences', () => {
  test('every action the log records has its own sentence', () => {
    expect([...WORDED_ACTIONS].sort()).toEqual([...OP_ACTIONS].sort())
  })

  test('rows with missing fields still read as words; unknown actions too', () => {
    for (const a of OP_ACTIONS) expect(sentenceOf(a, {})).toMatch(/^[A-Z]/)
    expect(sentenceOf('add_user', { fields: { Email: 'prod@company.com' } })).toBe(
      'Created user with email: prod@company.com',
    )
    expect(sentenceOf('something_new', { a: 1 })).toBe('Something new')
    expect(sentenceOf('recharge', { name: 'x', amount: 0.1 + 0.2, cost: 0.1 + 0.2, days: 1 })).toBe(
      'Recharged user x with 0.3 USD valid 1 day (cost 0.3 USD)',
    )
  })
})
