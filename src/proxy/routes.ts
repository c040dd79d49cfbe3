// HTTP for the proxied surfaces: each path hands the raw request to the pipeline (no body parsing
// by the framework: the pipeline reads it once), GET /v1/models and GET /v1/models/{id}.
import { Elysia, t } from 'elysia'
import type { Authenticator } from '../accounts/auth'
import type { Pricing } from '../billing/pricing'
import type { Pool } from '../keys/pool'
import type { ProxyService } from './service'
import { AppError } from '../shared/errors'
import { ENDPOINTS } from './endpoints'
import { anthropicModelList, modelAnswer, openaiModelList, usableModels } from './models'

const PASS = t.Any({
  description: 'passed through to the provider unchanged (model may be mapped)',
})

/** What the proxied routes touch: the pipeline and, for the model lists, keys, prices and auth. */
export type ProxyRoutesParts = {
  proxy: ProxyService
  auth: Authenticator
  pricing: () => Pricing
  pool: Pool
  startedAtMs: number
}

export const proxyRoutes = (deps: ProxyRoutesParts) => {
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
  /** The models this caller may use, as on every proxied call for a disabled ancestor. */
  const modelsOf = async (headers: Headers) => {
    const account = await deps.auth.authenticate(headers)
    const p = deps.proxy
    await p.warm(account)
    const policy = p.policies.of(account)
    // As on every proxied call: a disabled ancestor disables its whole subtree.
    if (!policy.enabled) throw new AppError('account_disabled', 'account is disabled')
    return usableModels(account, policy, p.rules(), deps.pricing(), deps.pool)
  }
  return app
    .get(
      '/v1/models',
      async ({ request }) => {
        const models = await modelsOf(request.headers)
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
    .get(
      '/v1/models/:id',
      async ({ request, params }) =>
        modelAnswer(
          await modelsOf(request.headers),
          params.id,
          request.headers.has('anthropic-version'),
          deps.startedAtMs,
        ),
      {
        detail: {
          summary:
            'One model this key may use (OpenAI model object; Anthropic form with anthropic-version)',
          tags: ['Proxy: OpenAI'],
        },
      },
    )
}
