// HTTP of key rotation: POST /x-self (any account) and POST /x-root (root).
import { Elysia } from 'elysia'
import { adminAuth, type Authenticator } from '../accounts/auth'
import type { Tree } from '../accounts/tree'
import { gateCaller } from '../reports/ident'
import type { RequestMeta } from '../shared/request-meta'
import { RootBody, Rotated, SelfBody } from './model'
import type { RotationService } from './service'

/** What the rotation routes touch. The service comes built (app.ts makes it): no store is named. */
export type RotationRoutesParts = {
  auth: Authenticator
  tree: Tree
  requestMeta: WeakMap<Request, RequestMeta>
  rotation: RotationService
}

export const rotationRoutes = (p: RotationRoutesParts) => {
  const rotation = p.rotation
  return new Elysia({ name: 'rotation' })
    .use(adminAuth(p.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(p, request, caller))
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
