// Managing through the console in a browser: a subaccount's limits and lists edited (and a bad
// value refused in words), a deduction, disabling, deleting after a confirmation whose refund is
// what the API then pays; root's config with a validation error shown, news, a new upstream key.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { call } from '../helpers/gateway'
import { openBrowser, type Browsing } from './browser'
import { startSeeded, type Seeded } from './seed'

let world: Seeded
let browser: Browsing
let page: Page
const CHILD = 'customer-three'

const balanceOf = async (key: string) =>
  (await call(world.gw, 'GET', '/dashboard/x-user-status', { key })).body.balance as number
const child = () => call(world.gw, 'GET', `/x-users/${CHILD}`, { key: world.alice.key })

async function signIn(key: string) {
  await page.goto(`${world.gw.url}/console`)
  await page.evaluate(() => sessionStorage.clear())
  await page.reload()
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('main[data-screen=home]').waitFor()
}

/** A refusal the test asked for: Chromium logs the failed call, and nothing else went wrong. */
function expectOnlyRefusals(status: number) {
  expect(browser.errors.length).toBeGreaterThan(0)
  for (const e of browser.errors) expect(e).toContain(`status of ${status}`)
  browser.errors.length = 0
}

beforeAll(async () => {
  world = await startSeeded()
  const made = await call(world.gw, 'POST', '/x-users', {
    key: world.alice.key,
    body: { Name: CHILD, Email: 'three@example.com', CreditGranted: 30 },
  })
  if (made.status !== 200) throw new Error(made.text)
  browser = await openBrowser(1400, 900)
  page = browser.page
})

afterAll(async () => {
  await browser?.close()
  await world?.close()
})

describe('managing a subaccount in the browser', () => {
  test('limits and lists edited with the list language; a bad value is refused in words', async () => {
    await signIn(world.alice.key)
    await page.goto(`${world.gw.url}/console#/subaccounts`)
    const inherited = (await child()).body.RPM
    await page.getByRole('button', { name: `Manage ${CHILD}` }).click()
    await page.getByLabel('RPM', { exact: true }).fill('-5')
    await page.getByRole('button', { name: 'Save changes' }).click()
    const alert = page.locator('section.wide [role=alert]')
    await alert.waitFor()
    expect(await alert.textContent()).toMatch(/^The request was not accepted \(400\): .*RPM/)
    expectOnlyRefusals(400)
    expect((await child()).body.RPM).toBe(inherited)
    await page.getByLabel('RPM', { exact: true }).fill('30')
    await page.getByLabel('AllowModels').fill('-gpt-4o')
    await page.getByRole('button', { name: 'Save changes' }).click()
    await page.getByText('Saved').waitFor()
    const c = (await child()).body
    expect(c.RPM).toBe(30)
    expect(c.AllowModels).toBe('* -gpt-4o')
  })

  test('funding beyond the payer’s balance is refused in words (402), nothing moves', async () => {
    const before = await balanceOf(world.alice.key)
    await page.getByLabel('Fund (+) or deduct (−), USD').fill('100000')
    await page.getByRole('button', { name: 'Fund', exact: true }).click()
    const alert = page.locator('section.wide [role=alert]')
    await page.waitForFunction(() =>
      /\(402\)/.test(document.querySelector('section.wide [role=alert]')?.textContent ?? ''),
    )
    expect(await alert.textContent()).toMatch(/^Not enough balance \(402\)/)
    expectOnlyRefusals(402)
    expect(await balanceOf(world.alice.key)).toBe(before)
    expect((await child()).body.Balance).toBe(30)
  })

  test('a deduction comes back to the payer less the fee; disabling shows in the API', async () => {
    const before = await balanceOf(world.alice.key)
    await page.getByLabel('Fund (+) or deduct (−), USD').fill('-5')
    await page.getByRole('button', { name: 'Deduct', exact: true }).click()
    await page.getByText('Deducted $5.00').waitFor()
    expect((await child()).body.Balance).toBe(25)
    expect((await balanceOf(world.alice.key)) - before).toBeCloseTo(4.8, 9)
    await page.getByRole('button', { name: 'Disable', exact: true }).click()
    await page.getByText(`${CHILD} is disabled`).waitFor()
    expect((await child()).body.Status).toBe(false)
  })

  test('delete: the confirmation shows the refund, and the API pays exactly that', async () => {
    const before = await balanceOf(world.alice.key)
    await page.getByRole('button', { name: 'Delete…' }).click()
    // The choice has the focus: Enter would confirm, Tab reaches Cancel.
    await page.waitForFunction(
      (name) => document.activeElement?.textContent === `Delete ${name}`,
      CHILD,
    )
    const refund = (await page.locator('[data-testid=refund]').textContent())!
    expect(refund).toBe('$24.80')
    await page.getByRole('button', { name: `Delete ${CHILD}` }).click()
    await page.getByText(`Deleted ${CHILD}.`).waitFor()
    expect((await child()).status).toBe(404)
    expect((await balanceOf(world.alice.key)) - before).toBeCloseTo(24.8, 9)
    // The list is read again without it.
    await page.locator(`tr[data-name="${CHILD}"]`).waitFor({ state: 'detached' })
  })

  test('the operation log shows what was just done, newest first, filtered by action', async () => {
    await page.goto(`${world.gw.url}/console#/log`)
    const first = page.locator('main tbody tr').first()
    await first.waitFor()
    expect(await first.locator('td').nth(1).textContent()).toBe('delete_user')
    await page.getByLabel('Action').selectOption('deduct')
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('main tbody tr td:nth-child(2)')).every(
        (td) => td.textContent === 'deduct',
      ),
    )
    expect(await page.locator('main tbody tr').count()).toBe(1)
  })
})

describe('a key that stops working while signed in', () => {
  test('the console says so in words once xgate refuses it', async () => {
    const made = await call(world.gw, 'POST', '/x-users', {
      key: world.alice.key,
      body: { Name: 'short-lived', Email: 'short@example.com', CreditGranted: 5 },
    })
    await signIn(made.body.User.SecretKey)
    expect(
      (await call(world.gw, 'DELETE', '/x-users/short-lived', { key: world.alice.key })).status,
    ).toBe(200)
    await page.getByRole('link', { name: 'Limits', exact: true }).click()
    const banner = page.locator('.banner[role=alert]')
    await banner.waitFor()
    expect(await banner.textContent()).toContain('no longer accepts this key (401)')
    // Every read of the screen is refused the same way; wait for the last of them.
    await page.waitForLoadState('networkidle')
    await page.waitForTimeout(200)
    expectOnlyRefusals(401)
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('API key').waitFor()
  })
})

describe('operator screens in the browser', () => {
  test('config: a bad value is refused with its reason, a good one is applied', async () => {
    await signIn(world.gw.rootKey)
    await page.goto(`${world.gw.url}/console#/config`)
    const row = page.locator('[data-config=MODEL_LIMITS]')
    await row.locator('textarea').fill('{"gpt-4o": {"rpm": "many"}}')
    await row.getByRole('button', { name: 'Save MODEL_LIMITS' }).click()
    await row.getByRole('alert').waitFor()
    expect(await row.getByRole('alert').textContent()).toMatch(/\(400\): .*MODEL_LIMITS/)
    expectOnlyRefusals(400)
    await row.locator('textarea').fill('{"gpt-4o": {"rpm": 100}}')
    await row.getByRole('button', { name: 'Save MODEL_LIMITS' }).click()
    await row.getByText('MODEL_LIMITS saved and applied.').waitFor()
    const cfg = await call(world.gw, 'GET', '/x-config', { key: world.gw.rootKey })
    expect(cfg.body.configs.MODEL_LIMITS, cfg.text).toContain('gpt-4o')
  })

  test('news posted by root reaches the reseller', async () => {
    await page.goto(`${world.gw.url}/console#/news`)
    await page.getByLabel('Title').fill('Maintenance on Sunday')
    await page.getByLabel('Text').fill('The gateway restarts at 02:00 UTC.')
    await page.getByRole('button', { name: 'Post' }).click()
    await page.getByText('Posted to everyone.').waitFor()
    const news = await call(world.gw, 'GET', '/dashboard/x-user-news', { key: world.alice.key })
    expect(news.body.system_news.map((n: { title: string }) => n.title)).toContain(
      'Maintenance on Sunday',
    )
  })

  test('an upstream key added from the form joins the pool, active', async () => {
    await page.goto(`${world.gw.url}/console#/upstream`)
    await page.getByLabel('Secret').fill(`sk-upstream-c-${'z'.repeat(24)}`)
    await page.getByLabel('Provider base URL').fill(world.up.url)
    await page.getByLabel('Name', { exact: true }).fill('key-three')
    await page.getByRole('button', { name: 'Add key' }).click()
    await page.locator('[data-testid=upstream-keys] tr', { hasText: 'key-three' }).waitFor()
    const keys = (await call(world.gw, 'GET', '/x-keys', { key: world.gw.rootKey })).body
    const added = keys.find((k: { Name: string }) => k.Name === 'key-three')
    expect(added?.State, JSON.stringify(keys)).toBe('active')
    // Removing asks first; accepted, the key leaves the pool.
    page.once('dialog', (d) => void d.accept())
    await page.getByRole('button', { name: 'Remove key key-three' }).click()
    await page.getByText('key-three removed.').waitFor()
    const after = (await call(world.gw, 'GET', '/x-keys', { key: world.gw.rootKey })).body
    expect(after.map((k: { Name: string }) => k.Name)).not.toContain('key-three')
    expect(browser.errors).toEqual([])
    expect(browser.offsite).toEqual([])
  })
})
