// /swagger shows xgate's API only: the page's Scalar configuration turns off the hosted-service
// parts (Ask AI, MCP, the developer tools with Share and Deploy, telemetry, web fonts), and the
// page loads nothing from another site.
import { afterAll, expect, test } from 'bun:test'
import { SCALAR_PATH } from '../../src/docs/routes'
import { makeTestApp } from '../helpers/app'

const t = await makeTestApp()
afterAll(() => t.close())

async function page(): Promise<string> {
  const res = await t.app.handle(t.request('GET', '/swagger'))
  expect(res.status).toBe(200)
  return res.text()
}

test('the Scalar configuration hides every hosted-service button', async () => {
  const html = await page()
  const attr = html.match(/data-configuration='([^']*)'/)
  expect(attr, html.slice(0, 2000)).not.toBeNull()
  const config = JSON.parse(attr![1]!)
  expect(config).toMatchObject({
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: 'never',
    telemetry: false,
    withDefaultFonts: false,
    hideTestRequestButton: false,
  })
  // showToolbar is the old name of showDeveloperTools: set, Scalar warns in the console.
  expect(config.showToolbar).toBeUndefined()
})

test('the page loads its script from xgate and nothing from another site', async () => {
  const html = await page()
  expect(html).toContain(`src="${SCALAR_PATH}"`)
  expect(html.match(/https?:\/\/[^\s"'<>)]+/g) ?? []).toEqual([])
})
