// HTTP of the web console (§7.8): the page at /console and its hashed assets under
// /console/assets/, from the binary itself. The page is never cached (it names the current
// assets); assets are immutable. A strict Content-Security-Policy: scripts, styles and calls
// only from this origin, no inline script, no framing. No cookies: the key lives in the tab.
import { Elysia } from 'elysia'
import { AppError } from '../shared/errors'
import { consoleFiles } from './bundle'

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const COMMON = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

async function pageResponse(): Promise<Response> {
  const files = await consoleFiles()
  return new Response(files.html, {
    headers: {
      ...COMMON,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      etag: files.htmlEtag,
      'content-security-policy': CONSOLE_CSP,
      'x-frame-options': 'DENY',
    },
  })
}

export const consoleRoutes = () =>
  new Elysia({ name: 'console' })
    .get('/console', pageResponse, { detail: { hide: true } })
    .get('/console/', pageResponse, { detail: { hide: true } })
    .get(
      '/console/assets/:name',
      async ({ params }) => {
        const file = (await consoleFiles()).assets.get(params.name)
        if (!file) throw new AppError('not_found', `no console asset ${params.name}`)
        return new Response(file.body, {
          headers: {
            ...COMMON,
            'content-type': file.type,
            'cache-control': 'public, max-age=31536000, immutable',
            etag: file.etag,
          },
        })
      },
      { detail: { hide: true } },
    )
