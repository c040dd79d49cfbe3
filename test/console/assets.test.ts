// The console as HTTP serves it, without a browser: the page with its strict policy and no
// cookies, hashed assets cached for good, JavaScript within its size budget, a favicon, and
// plain 404s for what is not there.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTestGateway, type TestGateway } from '../helpers/gateway'

/** The console's JavaScript, gzipped, must stay under this (issue budget). */
const JS_BUDGET_GZIP_BYTES = 150_000

let gw: TestGateway
beforeAll(async () => {
  gw = await startTestGateway()
})
afterAll(() => gw?.close())

const assetsOf = (html: string) => [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)

describe('GET /console', () => {
  test('the page: no key needed, never cached, strict CSP, no inline script, no cookie', async () => {
    const res = await fetch(`${gw.url}/console`)
    const html = await res.text()
    expect(res.status, html).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('set-cookie')).toBeNull()
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    // Every script is a file of this origin: none inline.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)]
    expect(scripts.length).toBeGreaterThan(0)
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/console\/assets\//)
      expect(body!.trim()).toBe('')
    }
    expect(html).toMatch(/rel="icon"[^>]*href="\/console\/assets\/favicon-[a-z0-9]+\.svg"/)
    expect((await fetch(`${gw.url}/console/`)).status).toBe(200)
  })

  test('assets: hashed names, immutable, JavaScript under the gzip budget', async () => {
    const html = await (await fetch(`${gw.url}/console`)).text()
    const urls = assetsOf(html)
    expect(urls.some((u) => u.endsWith('.js'))).toBe(true)
    expect(urls.some((u) => u.endsWith('.css'))).toBe(true)
    let jsGzip = 0
    for (const u of urls) {
      expect(u).toMatch(/^\/console\/assets\/[\w.-]+-[a-z0-9]{8}\.(js|css|svg)$/)
      const res = await fetch(gw.url + u)
      const body = new Uint8Array(await res.arrayBuffer())
      expect(res.status, u).toBe(200)
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      expect(res.headers.get('etag')).toMatch(/^"[^"]+"$/)
      expect(res.headers.get('set-cookie')).toBeNull()
      if (u.endsWith('.js')) jsGzip += Bun.gzipSync(body).byteLength
    }
    expect(jsGzip).toBeGreaterThan(10_000)
    expect(jsGzip).toBeLessThan(JS_BUDGET_GZIP_BYTES)
  })

  test('an unknown asset is a 404 in xgate’s error shape; other methods are refused', async () => {
    const res = await fetch(`${gw.url}/console/assets/nothing-12345678.js`)
    expect(res.status).toBe(404)
    expect((await res.json()).error.message).toContain('nothing-12345678.js')
    const post = await fetch(`${gw.url}/console`, { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toContain('GET')
  })
})
