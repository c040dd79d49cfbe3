// HTTP for the proxied surfaces: each path hands the raw request to the pipeline (no body parsing
// by the framework: the pipeline reads it once), and GET /v1/models.
import { Elysia, t } from 'elysia'
import type { Deps } from '../deps'
import { AppError } from '../shared/errors'
import { ENDPOINTS } from './endpoints'
import { anthropicModelList, openaiModelList, usableModels } from './models'

const PASS = t.Any({
  description: 'passed through to the provider unchanged (model may be mapped)',
})

export const proxyRoutes = (deps: Deps) => {
  const { handle } = deps.proxy
  let app = new Elysia({ name: 'proxy' })
  for (const ep of ENDPOINTS) {
    app = app.post(ep.path, ({ request }) => handle(request, ep), {
      parse: 'none',
      detail: {
        summary: ep.summary,
        tags: [ep.type === 'anthropic' ? 'Proxy: Anthropic' : 'Proxy: OpenAI'],
        requestBody: {
          content: {
            [ep.multipart ? 'multipart/form-data' : 'application/json']: { schema: PASS },
          },
        },
      },
    })
  }
  return app.get(
    '/v1/models',
    ({ request }) => {
      const account = deps.accounts.auth.authenticate(request.headers)
      const p = deps.proxy
      const policy = p.policies.of(account)
      // As on every proxied call: a disabled ancestor disables its whole subtree.
      if (!policy.enabled) throw new AppError('account_disabled', 'account is disabled')
      const models = usableModels(
        account,
        policy,
        p.rules(),
        deps.billing.pricing(),
        deps.keys.pool,
      )
      return request.headers.has('anthropic-version')
        ? anthropicModelList(models, new Date(deps.startedAtMs).toISOString())
        : openaiModelList(models, Math.floor(deps.startedAtMs / 1000))
    },
    {
      detail: {
        summary:
          'Models this key may use (OpenAI list format; Anthropic format with anthropic-version)',
        tags: ['Proxy: OpenAI'],
      },
    },
  )
}
