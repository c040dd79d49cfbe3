// Validation errors in plain words (§8): each 400 names the field in `param` and in a sentence;
// a number sent as text reads as the number would. No TypeBox wording reaches the client.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { plainMessage } from '../../src/shared/validation'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'

let gw: TestGateway

beforeAll(async () => {
  gw = await startTestGateway()
})
afterAll(() => gw.close())

const TYPEBOX = /Expected|union value|: Expected/

async function bad(method: string, path: string, body: unknown) {
  const r = await call(gw, method, path, { key: gw.rootKey, body })
  expect(r.status, r.text).toBe(400)
  expect(r.body.error.message, r.text).not.toMatch(TYPEBOX)
  return r.body.error as { message: string; param: string; code: string }
}

describe('POST /x-users', () => {
  test('a missing field: "Email is required"', async () => {
    const e = await bad('POST', '/x-users', { Name: 'wordsuser', CreditGranted: 5 })
    expect(e.param).toBe('Email')
    expect(e.message).toBe('Email is required')
  })

  test('CreditGranted below USER_MIN_BALANCE: "CreditGranted must be at least 2"', async () => {
    const e = await bad('POST', '/x-users', { Name: 'wordsuser', Email: 'w@x.io', CreditGranted: 1 })
    expect(e.param).toBe('CreditGranted')
    expect(e.message).toStartWith('CreditGranted must be at least 2')
  })

  test('CreditGranted as text reads as the number: the same message as 1', async () => {
    const base = { Name: 'wordsuser', Email: 'w@x.io' }
    const n = await bad('POST', '/x-users', { ...base, CreditGranted: 1 })
    const s = await bad('POST', '/x-users', { ...base, CreditGranted: '1' })
    expect(s).toEqual(n)
    const w = await bad('POST', '/x-users', { ...base, CreditGranted: 'lots' })
    expect(w).toMatchObject({ param: 'CreditGranted', message: 'CreditGranted must be a number (got "lots")' })
  })

  test('Level out of range, as a number and as text, gives one message', async () => {
    const base = { Name: 'wordsuser', Email: 'w@x.io', CreditGranted: 5 }
    const n = await bad('POST', '/x-users', { ...base, Level: 11 })
    expect(n.param).toBe('Level')
    expect(n.message).toBe('Level must be between 0 and 10 (got "11")')
    const s = await bad('POST', '/x-users', { ...base, Level: '11' })
    expect(s).toEqual(n)
  })

  test('a word where a number belongs', async () => {
    const e = await bad('POST', '/x-users', { Name: 'wordsuser', Email: 'w@x.io', CreditGranted: 5, Level: 'high' })
    expect(e.param).toBe('Level')
    expect(e.message).toBe('Level must be a whole number between 0 and 10 (got "high")')
  })

  test('an object where text belongs names the field', async () => {
    const e = await bad('POST', '/x-users', { Name: 'wordsuser', Email: { a: 1 }, CreditGranted: 5 })
    expect(e.param).toBe('Email')
    expect(e.message).toStartWith('Email must be text')
  })
})

describe('other endpoints', () => {
  test('PUT /x-users/{id}: Days above its maximum', async () => {
    const made = await call(gw, 'POST', '/x-users', {
      key: gw.rootKey,
      body: { Name: 'daysuser', Email: 'd@x.io', CreditGranted: 5 },
    })
    expect(made.status, made.text).toBe(200)
    const e = await bad('PUT', `/x-users/${made.body.User.ID}`, { Days: 400 })
    expect(e.param).toBe('Days')
    expect(e.message).toMatch(/^Days must be (more than 0 and at most 365|at most 365) \(got "400"\)$/)
  })

  test('POST /x-keys: Level as text out of range reads as the number would', async () => {
    const body = { SecretKey: 'sk-test-words-0001', Provider: 'https://api.openai.com', Level: '12' }
    const s = await bad('POST', '/x-keys', body)
    const n = await bad('POST', '/x-keys', { ...body, Level: 12 })
    expect(s.param).toBe('Level')
    expect(s.message).toBe(n.message)
    expect(s.message).toContain('Level must be')
  })

  test('a query parameter is named as one', async () => {
    const r = await call(gw, 'GET', '/x-users?size=abc', { key: gw.rootKey })
    if (r.status === 400) {
      expect(r.body.error.message, r.text).not.toMatch(TYPEBOX)
      expect(r.body.error.param).toBe('size')
    }
  })
})

describe('plainMessage', () => {
  test('unions, lengths, lists and booleans in words', () => {
    const union = { anyOf: [{ type: 'string', maxLength: 320 }, { type: 'null' }] }
    expect(plainMessage('BillingEmail', { schema: union, value: 5 })).toBe(
      'BillingEmail must be text of at most 320 characters or null (got "5")',
    )
    expect(plainMessage('Name', { schema: { type: 'string', maxLength: 4 }, value: 'abcdef' })).toBe(
      'Name must be at most 4 characters long (got 6)',
    )
    expect(plainMessage('Status', { schema: { type: 'boolean' }, value: 'yes' })).toBe(
      'Status must be true or false (got "yes")',
    )
    expect(plainMessage('keys', { schema: { type: 'array' }, value: {} })).toBe(
      'keys must be a list (got an object)',
    )
    expect(plainMessage('Weight', { schema: { type: 'number', minimum: 0 }, value: '-1' })).toBe(
      plainMessage('Weight', { schema: { type: 'number', minimum: 0 }, value: -1 }),
    )
  })
})
