// Every screen of the console at a phone's width (375 px) and a desktop's (1400 px): it renders
// without a page or console error, nothing overflows sideways, every form control has a label,
// and the screens are reachable by keyboard. Screenshots go to test/console/screenshots/
// (git ignores it) for a person to look at.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { openBrowser, type Browsing } from './browser'
import { startSeeded, type Seeded } from './seed'

const SHOTS = join(import.meta.dir, 'screenshots')
const CUSTOMER = ['home', 'usage', 'requests', 'limits', 'subaccounts', 'keys', 'news', 'log']
const OPERATOR = ['upstream', 'config']
const WIDTHS = [375, 1400]

let world: Seeded
let browser: Browsing

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true })
  world = await startSeeded()
  // A child, so the reseller's screens have a subtree to show.
  const r = await fetch(`${world.gw.url}/x-users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${world.alice.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ Name: 'customer-two', Email: 'two@example.com', CreditGranted: 20 }),
  })
  if (r.status !== 200) throw new Error(await r.text())
  browser = await openBrowser(1400, 900)
})

afterAll(async () => {
  await browser?.close()
  await world?.close()
})

async function signIn(key: string) {
  const page = browser.page
  await page.goto(`${world.gw.url}/console`)
  // Whoever was signed in before is forgotten with the tab's storage.
  await page.evaluate(() => sessionStorage.clear())
  await page.reload()
  await page.getByLabel('API key').fill(key)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.locator('main[data-screen=home]').waitFor()
}

/** Controls without a name a screen reader could read: no label, aria-label or aria-labelledby. */
const unlabelled = () =>
  browser.page.evaluate(() =>
    Array.from(document.querySelectorAll('input, select, textarea, button'))
      .filter((el) => {
        const e = el as HTMLInputElement
        if (e.type === 'hidden') return false
        const named =
          e.labels?.length || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')
        return !named && !(el.tagName === 'BUTTON' && el.textContent?.trim())
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  )

async function visit(screen: string, width: number) {
  const page = browser.page
  await page.goto(`${world.gw.url}/console#/${screen}`)
  await page.locator(`main[data-screen=${screen}]`).waitFor()
  // Let the screen's reads land (tables, chart) before looking at it.
  await page.waitForLoadState('networkidle')
  await page.waitForTimeout(150)
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth)
  if (overflow > 0)
    await page.screenshot({ path: join(SHOTS, `${screen}-${width}-overflow.png`), fullPage: true })
  expect(overflow, `${screen} at ${width} px overflows by ${overflow} px`).toBeLessThanOrEqual(0)
  expect(await unlabelled(), `${screen}: unlabelled controls`).toEqual([])
  await page.screenshot({ path: join(SHOTS, `${screen}-${width}.png`), fullPage: true })
}

describe('every screen at 375 px and 1400 px', () => {
  for (const width of WIDTHS) {
    test(`customer and reseller screens at ${width} px`, async () => {
      await browser.page.setViewportSize({ width, height: width < 600 ? 800 : 900 })
      await signIn(world.alice.key)
      for (const s of CUSTOMER) await visit(s, width)
      expect(browser.errors).toEqual([])
    })

    test(`operator screens at ${width} px`, async () => {
      await browser.page.setViewportSize({ width, height: width < 600 ? 800 : 900 })
      await signIn(world.gw.rootKey)
      for (const s of OPERATOR) await visit(s, width)
      expect(browser.errors).toEqual([])
    })
  }

  test('the screens are reachable by keyboard alone', async () => {
    const page = browser.page
    await page.setViewportSize({ width: 1400, height: 900 })
    await signIn(world.alice.key)
    let reached = ''
    for (let i = 0; i < 20 && reached !== 'Requests'; i++) {
      await page.keyboard.press('Tab')
      reached = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? '')
    }
    expect(reached).toBe('Requests')
    await page.keyboard.press('Enter')
    await page.locator('main[data-screen=requests]').waitFor()
    expect(browser.errors).toEqual([])
    expect(browser.offsite).toEqual([])
  })
})
