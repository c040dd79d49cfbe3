// HTTP of the global settings: GET/POST/DELETE /x-config, root only.
import { Elysia } from 'elysia'
import { adminAuth, requireRoot, type Authenticator } from '../accounts/auth'
import type { Tree } from '../accounts/tree'
import { gateCaller } from '../reports/ident'
import type { Clock } from '../shared/clock'
import type { RequestMeta } from '../shared/request-meta'
import { ConfigBody, ConfigReset, ConfigSet, ConfigView, ResetBody } from './model'
import type { Settings } from './service'

/** What the settings routes touch: the key check, the caller's tree, the settings, the clock. */
export type SettingsRoutesParts = {
  auth: Authenticator
  tree: Tree
  requestMeta: WeakMap<Request, RequestMeta>
  settings: Settings
  clock: Clock
}

export const settingsRoutes = (p: SettingsRoutesParts) => {
  const settings = p.settings
  const ctx = (actor: Parameters<typeof requireRoot>[0]) => {
    requireRoot(actor)
    return { actor, nowMs: p.clock.now() }
  }
  return new Elysia({ name: 'settings' })
    .use(adminAuth(p.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(p, request, caller))
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
