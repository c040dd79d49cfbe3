// Regression tests for the bugs the reliability tests (authz, fuzz, secrets) found in xgate, one
// `describe` per bug, each small enough to read without the property that found it.
import { describe, expect, test } from 'bun:test'
import { makeTestApp } from '../helpers/app'

describe('a second app in one process after /swagger was served', () => {
  test('builds and serves /swagger again', async () => {
    const first = makeTestApp()
    const page = await first.app.handle(new Request('http://localhost/swagger'))
    expect(page.status, await page.text()).toBe(200)
    first.close()
    const second = makeTestApp()
    const again = await second.app.handle(new Request('http://localhost/swagger'))
    expect(again.status, await again.text()).toBe(200)
    second.close()
  })
})
