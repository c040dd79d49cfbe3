// /swagger: the OpenAPI document generated from the TypeBox schemas, and the Scalar UI whose
// script is embedded in the binary and served from here, so the page works with no internet.
// A function, not a shared instance: the swagger plugin keeps its page as one Response, and a
// second app built from an instance whose page was already served failed to start.
import { swagger } from '@elysiajs/swagger'
import { Elysia } from 'elysia'
// @ts-ignore -- a file import: the bundler embeds it and the value is its path at run time
import scalarBundle from '../../node_modules/@scalar/api-reference/dist/browser/standalone.js' with { type: 'file' }
import { VERSION } from '../config'
import { toOpenApi30 } from './openapi'
import { SCALAR_CONFIG } from './scalar'

/** The plugin types Scalar's options from an older release than the bundle it serves. */
type ScalarOptions = NonNullable<NonNullable<Parameters<typeof swagger>[0]>['scalarConfig']>

export const SCALAR_PATH = '/swagger-assets/scalar.js'
export const SPEC_PATH = '/swagger/json'

/** The processed document, rebuilt when the plugin's output (or the day) changes. */
function documentCache() {
  let key = ''
  let body = ''
  return (raw: unknown): string => {
    const today = new Date().toISOString().slice(0, 10)
    const text = JSON.stringify(raw)
    if (text + today !== key) {
      key = text + today
      body = JSON.stringify(toOpenApi30(JSON.parse(text), { today }))
    }
    return body
  }
}

export const docsRoutes = () => {
  const processed = documentCache()
  return (
    new Elysia({ name: 'docs' })
      // The plugin's document is what TypeBox says; the reader gets it as valid OpenAPI 3.0.3.
      .onAfterHandle(({ path, response }) =>
        path === SPEC_PATH
          ? new Response(processed(response), {
              headers: { 'content-type': 'application/json; charset=utf-8' },
            })
          : undefined,
      )
      .get(
        SCALAR_PATH,
        () =>
          new Response(Bun.file(scalarBundle as unknown as string), {
            headers: {
              'content-type': 'application/javascript; charset=utf-8',
              'cache-control': 'public, max-age=86400',
            },
          }),
        { detail: { hide: true } },
      )
      .use(
        swagger({
          path: '/swagger',
          specPath: SPEC_PATH,
          scalarCDN: SCALAR_PATH,
          scalarConfig: SCALAR_CONFIG as unknown as ScalarOptions,
          exclude: [SCALAR_PATH],
          documentation: {
            info: {
              title: 'xgate',
              version: VERSION,
              description:
                'AI-API gateway. Proxy: point the OpenAI or Anthropic SDK at this server with an sk-Xvs… key. ' +
                'Admin: the x- endpoints, authenticated with the same keys (Authorization: Bearer).',
            },
            components: {
              securitySchemes: {
                bearer: { type: 'http', scheme: 'bearer', description: 'sk-Xvs… account key' },
              },
            },
            security: [{ bearer: [] }],
          },
        }),
      )
  )
}
