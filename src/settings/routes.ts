// HTTP of the global settings: GET/POST/DELETE /x-config, root only.
import { Elysia } from 'elysia'
import { adminAuth, requireRoot } from '../accounts/auth'
import type { Deps } from '../deps'
import { gateCaller } from '../reports/ident'
import { ConfigBody, ConfigReset, ConfigSet, ConfigView, ResetBody } from './model'

export const settingsRoutes = (deps: Deps) => {
  const settings = deps.settings
  const ctx = (actor: Parameters<typeof requireRoot>[0]) => {
    requireRoot(actor)
    return { actor, nowMs: deps.clock.now() }
  }
  const gate = { tree: deps.accounts.tree, requestMeta: deps.requestMeta }
  return new Elysia({ name: 'settings' })
    .use(adminAuth(deps.accounts.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(gate, request, caller))
    .get(
      '/x-config',
      ({ caller }) => {
        requireRoot(caller)
        return { success: true as const, ...settings.view() }
      },
      {
        response: ConfigView,
        detail: { summary: 'Global settings as applied now (secrets masked)', tags: ['Config'] },
      },
    )
    .post(
      '/x-config',
      async ({ caller, body }) => {
        const updated = await settings.set(body, ctx(caller))
        return { success: true as const, updated, ...settings.view() }
      },
      {
        body: ConfigBody,
        response: ConfigSet,
        detail: {
          summary: 'Set some global settings: all validated, stored and applied at once, or none',
          tags: ['Config'],
        },
      },
    )
    .delete(
      '/x-config',
      async ({ caller, body }) => {
        const { keys, removed } = await settings.reset(body.keys, ctx(caller))
        return { success: true as const, reset: keys, removed, ...settings.view() }
      },
      {
        body: ResetBody,
        response: ConfigReset,
        detail: { summary: 'Put settings back to their environment defaults', tags: ['Config'] },
      },
    )
}
