// HTTP of the dashboard: GET /dashboard/x-user-status, /dashboard/x-user-info and
// /dashboard/x-user-requests for any account.
import { Elysia } from 'elysia'
import { adminAuth, type Authenticator } from '../accounts/auth'
import type { Tree } from '../accounts/tree'
import { gateCaller } from '../reports/ident'
import type { RequestMeta } from '../shared/request-meta'
import { RequestsPage, RequestsQuery, UserInfo, UserStatus } from './model'
import type { createRequestsReader } from './requests'
import type { DashboardService } from './service'

/**
 * What the dashboard routes touch. Both readers come built (app.ts makes them): no store is named.
 */
export type DashboardRoutesParts = {
  auth: Authenticator
  tree: Tree
  requestMeta: WeakMap<Request, RequestMeta>
  dashboard: DashboardService
  requests: ReturnType<typeof createRequestsReader>
}

export const dashboardRoutes = (p: DashboardRoutesParts) => {
  const { dashboard, requests } = p
  return new Elysia({ name: 'dashboard' })
    .use(adminAuth(p.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(p, request, caller))
    .get('/dashboard/x-user-status', ({ caller }) => dashboard.status(caller), {
      response: UserStatus,
      detail: { summary: 'Your id, name, e-mail, balance and DNA', tags: ['Dashboard'] },
    })
    .get('/dashboard/x-user-info', ({ caller }) => dashboard.info(caller), {
      response: UserInfo,
      detail: {
        summary:
          "Your full record: cards, limits and their current use, lists, mappers, today's and this month's usage",
        tags: ['Dashboard'],
      },
    })
    .get('/dashboard/x-user-requests', ({ caller, query }) => requests.page(caller, query), {
      query: RequestsQuery,
      response: RequestsPage,
      detail: {
        summary:
          'Your latest calls (or, with u, those of an account in your subtree), newest first, within the retention period',
        description:
          'One usage record per proxied call: time, model asked and mapped, prompt / cached / completion tokens, ' +
          'cost charged, status, latency, time to first byte, estimated, request id. `has_more` says whether ' +
          'another page follows. 400 names the bad parameter in `param`; 404 when `u` names no account in ' +
          'your subtree (an ancestor or a sibling answers as if it did not exist).',
        tags: ['Dashboard'],
      },
    })
}
