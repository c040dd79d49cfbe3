// /swagger: the OpenAPI document generated from the TypeBox schemas, and the Scalar UI whose
// script is embedded in the binary and served from here, so the page works with no internet.
// A function, not a shared instance: the swagger plugin keeps its page as one Response, and a
// second app built from an instance whose page was already served failed to start.
import { swagger } from '@elysiajs/swagger'
import { Elysia } from 'elysia'
// @ts-ignore -- a file import: the bundler embeds it and the value is its path at run time
import scalarBundle from '../../node_modules/@scalar/api-reference/dist/browser/standalone.js' with { type: 'file' }
import { VERSION } from '../config'

export const SCALAR_PATH = '/swagger-assets/scalar.js'

export const docsRoutes = () =>
  new Elysia({ name: 'docs' })
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
        scalarCDN: SCALAR_PATH,
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
