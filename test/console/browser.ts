// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, offline: a fresh
// profile, every request checked to stay on 127.0.0.1, page errors and console errors collected.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export type Browsing = {
  context: BrowserContext
  page: Page
  /** Page errors and console errors, in words. */
  errors: string[]
  /** Every URL the page asked for that was not on 127.0.0.1 (each was refused). */
  offsite: string[]
  close(): Promise<void>
}

export async function openBrowser(width = 1400, height = 900): Promise<Browsing> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `the console tests need Debian's chromium at ${CHROMIUM} (apt-get install chromium)`,
    )
  }
  const profile = mkdtempSync(join(tmpdir(), 'xgate-console-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    viewport: { width, height },
    serviceWorkers: 'block',
  })
  const errors: string[] = []
  const offsite: string[] = []
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url())
    if (url.protocol === 'blob:' || url.protocol === 'data:' || url.hostname === '127.0.0.1')
      return route.continue()
    offsite.push(url.href)
    return route.abort()
  })
  const page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`)
  })
  return {
    context,
    page,
    errors,
    offsite,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}
