// The console in a real browser (headless Chromium, offline) against the real server with seeded
// calls: sign-in, the balance, the usage chart, the requests pages, a subaccount created and
// funded through the forms, a key rotation, an upstream key switched off from the operator screen.
// Throughout: no page or console error, and no request leaves 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Page } from 'playwright-core'
import { call } from '../helpers/gateway'
import { openBrowser, type Browsing } from './browser'
import { startSeeded, UPSTREAM_A, UPSTREAM_B, type Seeded } from './seed'

let world: Seeded
let browser: Browsing
let page: Page
let aliceKey = ''
let customerKey = ''

const balanceOf = async (key: string) =>
  (await call(world.gw, 'GET', '/dashboard/x-user-status', { key })).body.balance as number

async function signIn(key: string) {
  await page.goto(`${world.gw.url}/console`)
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('[data-testid=balance] .money').waitFor()
}

async function open(screen: string) {
  await page.getByRole('link', { name: screen, exact: true }).click()
  await page.locator('main h1', { hasText: screen }).waitFor()
}

beforeAll(async () => {
  world = await startSeeded()
  aliceKey = world.alice.key
  browser = await openBrowser(1400, 900)
  page = browser.page
})

afterAll(async () => {
  await browser?.close()
  await world?.close()
})

describe('the web console in a browser', () => {
  test('a wrong key is refused in words; the right one signs in and shows the API’s balance', async () => {
    await page.goto(`${world.gw.url}/console`)
    await page.getByLabel('API key').fill(`sk-Xvs${'0'.repeat(45)}`)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByRole('alert').waitFor()
    expect(await page.getByRole('alert').textContent()).toContain('The key was not accepted (401)')
    // Chromium reports the refused call itself as a console error: the only one allowed here.
    expect(browser.errors.length).toBeGreaterThan(0)
    for (const e of browser.errors) expect(e).toContain('status of 401')
    browser.errors.length = 0
    await signIn(aliceKey)
    const shown = page.locator('[data-testid=balance] .money')
    const api = await balanceOf(aliceKey)
    expect(Number(await shown.getAttribute('data-usd'))).toBe(api)
    expect(await shown.textContent()).toBe(`$${api.toFixed(2)}`)
    expect(await shown.getAttribute('title')).toBe(`${api} USD`)
    // The key lives in this tab's sessionStorage, never in a cookie.
    expect(await page.evaluate(() => Object.values(sessionStorage))).toContain(aliceKey)
    expect(await browser.context.cookies()).toEqual([])
  })

  test('the usage chart draws the seeded days and models; the table counts each model', async () => {
    await open('Usage')
    const chart = page.locator('figure.chart')
    await chart.locator('canvas').first().waitFor()
    const models = Object.keys(world.perModel).sort()
    expect(await chart.getAttribute('data-models')).toBe(models.join(','))
    expect(await chart.getAttribute('data-drawn-days')).toBe(world.days.join(','))
    for (const m of models)
      await expect(chart.locator('.u-legend').textContent()).resolves.toContain(m)
    const table = page.locator('[data-testid=usage-by-model]')
    for (const m of models) {
      const row = table.locator('tr', { has: page.locator(`th:text-is("${m}")`) })
      expect(await row.locator('td').first().textContent()).toBe(String(world.perModel[m]))
    }
    // The CSV holds what is shown: a row per day and model, the same counts.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ])
    const lines = (await Bun.file((await download.path())!).text()).trim().split('\n')
    expect(lines[0]).toBe(
      'day,model,requests,prompt_tokens,completion_tokens,cached_tokens,cost_usd',
    )
    const counted: Record<string, number> = {}
    for (const l of lines.slice(1)) {
      const [d, m, n] = l.split(',')
      expect(world.days).toContain(d!)
      counted[m!] = (counted[m!] ?? 0) + Number(n)
    }
    expect(counted).toEqual(world.perModel)
    await page.getByLabel('requests').check()
    await expect(chart.getAttribute('aria-label')).resolves.toBe('Requests by day and model')
  })

  test('the requests table pages through every call, newest first, and filters by model', async () => {
    await open('Requests')
    const rows = page.locator('[data-testid=requests] tbody tr')
    await rows.first().waitFor()
    const ids = async () =>
      rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-request-id')))
    const first = await ids()
    expect(first.length).toBe(20)
    await page.getByRole('button', { name: 'Next' }).click()
    await page.getByText('Page 2').waitFor()
    await page.waitForFunction(
      (id) => !document.querySelector(`tr[data-request-id="${id}"]`),
      first[0],
    )
    const second = await ids()
    expect([...first, ...second]).toEqual([...world.requestIds].reverse())
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true)
    await page.getByLabel('Model').fill('gpt-4o')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.getByText('Page 1', { exact: true }).waitFor()
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid=requests] tbody tr').length === n,
      world.perModel['gpt-4o'],
    )
    // Every seeded call succeeded: the refused ones are none.
    await page.getByLabel('Status').selectOption('4xx')
    await page.getByText('No calls match.').waitFor()
    await page.getByLabel('Status').selectOption('2xx')
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid=requests] tbody tr').length === n,
      world.perModel['gpt-4o'],
    )
  })

  test('the limits screen shows each window’s limit and the use the API counts', async () => {
    await open('Limits')
    const rpm = page.locator('[data-testid=limits] tr[data-window=RPM]')
    await rpm.waitFor()
    const use = (await call(world.gw, 'GET', '/dashboard/x-user-info', { key: aliceKey })).body
      .LimitUse
    const cells = await rpm.locator('td').allTextContents()
    expect(cells[0]).toBe(use.RPM.limit.toLocaleString('en-US'))
    expect(cells[1]).toBe(String(use.RPM.used))
    expect(use.RPM.used).toBeGreaterThan(0)
    expect(
      await page.locator('[data-testid=limits] tr[data-window=RPH] td').first().textContent(),
    ).toBe('unlimited')
    // GET /v1/models with the same key: what it may call.
    await page.locator('[data-testid=models] li', { hasText: 'gpt-4o-mini' }).first().waitFor()
  })

  test('a subaccount created and funded through the forms: the API agrees, the payer paid', async () => {
    const before = await balanceOf(aliceKey)
    await open('Subaccounts')
    await page.getByLabel('Name', { exact: true }).fill('customer-one')
    await page.getByLabel('Email', { exact: true }).fill('customer-one@example.com')
    await page.getByLabel('Credit (USD)').fill('25')
    await page.getByRole('button', { name: 'Create subaccount' }).click()
    const secret = (await page.locator('[data-secret]').textContent())!
    expect(secret).toMatch(/^sk-Xvs[A-Za-z0-9]{45}$/)
    customerKey = secret
    // The copy button puts exactly the key on the clipboard.
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: world.gw.url,
    })
    await page.getByRole('button', { name: 'Copy key' }).click()
    await page.getByText('Copied.').waitFor()
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret)
    await page.getByRole('button', { name: 'Manage customer-one' }).click()
    await page.getByLabel('Fund (+) or deduct (−), USD').fill('10.5')
    await page.getByRole('button', { name: 'Fund', exact: true }).click()
    await page.getByText('Funded $10.50').waitFor()
    const child = await call(world.gw, 'GET', '/x-users/customer-one', { key: aliceKey })
    expect(child.body.Balance, child.text).toBe(35.5)
    expect(await balanceOf(secret)).toBe(35.5)
    expect(before - (await balanceOf(aliceKey))).toBeCloseTo(35.5, 9)
  })

  test('a subaccount’s usage and requests, as its reseller sees them', async () => {
    for (let i = 0; i < 2; i++) expect((await world.chat(customerKey, 'gpt-4o')).status).toBe(200)
    await open('Usage')
    await page.getByLabel('Account', { exact: true }).selectOption('customer-one')
    const chart = page.locator('figure.chart[data-models="gpt-4o"]')
    await chart.waitFor()
    expect(await chart.getAttribute('data-drawn-days')).toBe(new Date().toISOString().slice(0, 10))
    await open('Requests')
    await page.getByLabel('Account (ID or Name)').fill('customer-one')
    await page.getByLabel('Model').fill('')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.getByText('Calls of customer-one').waitFor()
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=requests] tbody tr').length === 2,
    )
  })

  test('rotating the key: the new one is shown once and works, the old one is refused', async () => {
    await open('Keys')
    const phrase = `${new Date().toISOString().slice(0, 10)}-ROTATE-SELF`
    await page.getByLabel('Confirmation').fill(phrase)
    await page.getByRole('button', { name: 'Rotate key' }).click()
    const fresh = (await page.locator('[data-secret]').textContent())!
    expect(fresh).toMatch(/^sk-Xvs[A-Za-z0-9]{45}$/)
    expect(fresh).not.toBe(aliceKey)
    expect(
      (await call(world.gw, 'GET', '/dashboard/x-user-status', { key: aliceKey })).status,
    ).toBe(401)
    expect((await world.chat(aliceKey, 'gpt-4o-mini')).status).toBe(401)
    expect((await call(world.gw, 'GET', '/dashboard/x-user-status', { key: fresh })).status).toBe(
      200,
    )
    aliceKey = fresh
    // The tab goes on with the new key.
    await open('Home')
    await page.locator('[data-testid=balance] .money').waitFor()
  })

  test('an upstream key switched off on the operator screen gets no more calls', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.getByLabel('API key').waitFor()
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0)
    await signIn(world.gw.rootKey)
    await open('Upstream keys')
    const first = page.locator('[data-testid=upstream-keys] tbody tr').first()
    await first.waitFor()
    const id = await first.getAttribute('data-key-id')
    await first.getByRole('button', { name: /^Disable key/ }).click()
    await page.locator(`tr[data-key-id="${id}"][data-state="disabled"]`).waitFor()
    const keys = (await call(world.gw, 'GET', '/x-keys', { key: world.gw.rootKey })).body
    const off = keys.find((k: { ID: number }) => String(k.ID) === id)
    expect(off.State, JSON.stringify(off)).toBe('disabled')
    // The two secrets differ in their tails, which the masked view shows.
    const offSecret = [UPSTREAM_A, UPSTREAM_B].find((s) => s.endsWith(off.PartialKey))!
    const onSecret = offSecret === UPSTREAM_A ? UPSTREAM_B : UPSTREAM_A
    const countOf = (s: string) => world.up.tally.byKey[s]?.requests ?? 0
    const offBefore = countOf(offSecret)
    const onBefore = countOf(onSecret)
    expect(offBefore, 'both keys served the seeded calls').toBeGreaterThan(0)
    for (let i = 0; i < 6; i++) expect((await world.chat(aliceKey, 'gpt-4o-mini')).status).toBe(200)
    expect(countOf(offSecret)).toBe(offBefore)
    expect(countOf(onSecret)).toBe(onBefore + 6)
  })

  test('no page or console error, and nothing left 127.0.0.1', () => {
    expect(browser.errors).toEqual([])
    expect(browser.offsite).toEqual([])
  })
})
