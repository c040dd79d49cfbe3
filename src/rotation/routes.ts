// HTTP of key rotation: POST /x-self (any account) and POST /x-root (root).
import { Elysia } from 'elysia'
import { adminAuth } from '../accounts/auth'
import type { Deps } from '../deps'
import { gateCaller } from '../reports/ident'
import { RootBody, Rotated, SelfBody } from './model'
import { createRotationService } from './service'

export const rotationRoutes = (deps: Deps) => {
  const rotation = createRotationService({
    db: deps.sql,
    lookup: deps.accounts.repo,
    auth: deps.accounts.auth,
    events: deps.events,
    clock: deps.clock,
    timeZone: deps.config.TZ!,
  })
  const gate = { tree: deps.accounts.tree, requestMeta: deps.requestMeta }
  return new Elysia({ name: 'rotation' })
    .use(adminAuth(deps.accounts.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(gate, request, caller))
    .post('/x-self', ({ caller, body }) => rotation.self(caller, body), {
      body: SelfBody,
      response: Rotated,
      detail: { summary: 'Rotate your own key; the old one stops working at once', tags: ['Keys'] },
    })
    .post('/x-root', ({ caller, body }) => rotation.root(caller, body), {
      body: RootBody,
      response: Rotated,
      detail: { summary: "Rotate root's key or a named account's key (root)", tags: ['Keys'] },
    })
}
