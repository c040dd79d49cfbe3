// GET /v1/models: the models a caller may use — priced, allowed by its lists, and served by a key
// level it can reach — in the OpenAI list format (or Anthropic's, for the Anthropic SDK); and
// GET /v1/models/{id}, one of them in either form.
import type { Account } from '../accounts/repo'
import { AppError } from '../shared/errors'
import type { Pricing } from '../billing/pricing'
import type { Pool } from '../keys/pool'
import type { KeyType } from '../keys/repo'
import type { Policy } from './policy'
import type { Rules } from './rules'

export type ModelEntry = { id: string; ownedBy: KeyType }

/**
 * Names a client may send: priced exact names, plus the exact sources of the mappers, each served
 * by keys of its mapped model's provider (MODEL_PROVIDERS, then the catalogue), on either surface.
 */
export function usableModels(
  account: Account,
  policy: Policy,
  rules: Rules,
  pricing: Pricing,
  pool: Pool,
): ModelEntry[] {
  const names = new Set(pricing.models())
  for (const k of Object.keys(account.modelMapper ?? {})) if (!k.includes('*')) names.add(k)
  const out: ModelEntry[] = []
  for (const name of names) {
    if (!policy.modelAllowed(name)) continue
    const mapped = policy.mapModel(name)
    if (!pricing.lookup(mapped)) continue
    const type: KeyType = rules.providerOf(mapped)
    const first = policy.levelFor(name, mapped)
    const levels = [first]
    for (
      let n = rules.switchOver.get(first);
      n !== undefined && !levels.includes(n);
      n = rules.switchOver.get(n)
    )
      levels.push(n)
    if (levels.some((l) => policy.levelAllowed(l) && pool.serves(l, type)))
      out.push({ id: name, ownedBy: type })
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : 1))
}

export function openaiModelList(models: ModelEntry[], createdS: number) {
  return {
    object: 'list' as const,
    data: models.map((m) => openaiModel(m, createdS)),
  }
}

export function anthropicModelList(models: ModelEntry[], createdAt: string) {
  const data = models.map((m) => anthropicModel(m, createdAt))
  return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }
}

const openaiModel = (m: ModelEntry, createdS: number) => ({
  id: m.id,
  object: 'model' as const,
  created: createdS,
  owned_by: m.ownedBy,
})

const anthropicModel = (m: ModelEntry, createdAt: string) => ({
  type: 'model' as const,
  id: m.id,
  display_name: m.id,
  created_at: createdAt,
})

/**
 * GET /v1/models/{id}: the model in the surface's form, or a 404 in that surface's error shape
 * when it is unknown or the caller may not use it (the two are not told apart).
 */
export function modelAnswer(
  models: ModelEntry[],
  id: string,
  anthropic: boolean,
  startedAtMs: number,
): Response {
  const m = models.find((x) => x.id === id)
  const headers = { 'content-type': 'application/json' }
  if (m) {
    const body = anthropic
      ? anthropicModel(m, new Date(startedAtMs).toISOString())
      : openaiModel(m, Math.floor(startedAtMs / 1000))
    return new Response(JSON.stringify(body), { headers })
  }
  const err = new AppError('not_found', `model ${JSON.stringify(id)} does not exist or is not available to this key`, { param: 'model' })
  // OpenAI's own answer for such a model carries code model_not_found, which its SDKs and
  // clients check; the type stays xgate's not_found_error.
  const body = anthropic ? err.toAnthropic() : { error: { ...err.toOpenAI().error, code: 'model_not_found' } }
  return new Response(JSON.stringify(body), { status: 404, headers })
}
