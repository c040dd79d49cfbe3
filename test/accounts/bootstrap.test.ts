// INIT_USERS at the edges: a large credit gives a HardLimit within the largest an account may
// have (and so within a safe integer of nano-USD on either engine); a credit beyond it is refused.
import { expect, test } from 'bun:test'
import { parseInitUsers } from '../../src/accounts/bootstrap'
import { MAX_LIMIT_USD } from '../../src/accounts/values'
import { generateKey } from '../../src/shared/ids'
import { MAX_USD } from '../../src/shared/money'
import { call, startTestGateway } from '../helpers/gateway'

test('a $1,000,000 INIT_USERS child gets HardLimit capped at the largest limit, read back on either engine', async () => {
  const key = generateKey()
  const gw = await startTestGateway({
    INIT_USERS: `root::root@example.com::${generateKey()},bigone::big@example.com::${key}::1000000`,
  })
  try {
    const r = await call(gw, 'GET', '/dashboard/x-user-info', { key })
    expect(r.status, r.text).toBe(200)
    expect(r.body.HardLimit).toBe(MAX_LIMIT_USD)
    expect(r.body.Balance).toBe(1_000_000)
  } finally {
    await gw.close()
  }
})

test('a credit above the largest limit is refused by position', () => {
  const root = `root::root@example.com::${generateKey()}`
  expect(() => parseInitUsers(`${root},huge::h@example.com::${generateKey()}::${MAX_USD + 1}`)).toThrow(
    /INIT_USERS entry 2: bad credit/,
  )
})
