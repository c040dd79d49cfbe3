// HTTP of the dashboard: GET /dashboard/x-user-status, /dashboard/x-user-info and
// /dashboard/x-user-requests for any account.
import { Elysia } from 'elysia'
import { adminAuth } from '../accounts/auth'
import { createCardsRepo } from '../wallet/repo'
import type { Deps } from '../deps'
import { gateCaller } from '../reports/ident'
import { RequestsPage, RequestsQuery, UserInfo, UserStatus } from './model'
import { createDashboardRepo } from './repo'
import { createRequestsReader } from './requests'
import { createDashboardService } from './service'

export const dashboardRoutes = (deps: Deps) => {
  const repo = createDashboardRepo(deps.sql)
  const dashboard = createDashboardService({
    repo,
    accounts: deps.accounts.repo,
    cards: createCardsRepo(deps.sql),
    flusher: deps.flusher,
    clock: deps.clock,
    timeZone: deps.config.TZ!,
    live: deps.accounts.service.live,
    limits: {
      windowUse: (key) => deps.limits.windows.usage(key),
      modelLimits: () => deps.settings.modelLimits(),
    },
  })
  const requests = createRequestsReader({
    repo,
    lookup: deps.accounts.repo,
    flusher: deps.flusher,
    clock: deps.clock,
    retentionDays: deps.config.USAGE_RETENTION_DAYS,
  })
  const gate = { tree: deps.accounts.tree, requestMeta: deps.requestMeta }
  return new Elysia({ name: 'dashboard' })
    .use(adminAuth(deps.accounts.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(gate, request, caller))
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
