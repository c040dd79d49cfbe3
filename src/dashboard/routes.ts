// HTTP of the dashboard: GET /dashboard/x-user-status and /dashboard/x-user-info for any account.
import { Elysia } from 'elysia'
import { adminAuth } from '../accounts/auth'
import { createCardsRepo } from '../wallet/repo'
import type { Deps } from '../deps'
import { gateCaller } from '../reports/ident'
import { UserInfo, UserStatus } from './model'
import { createDashboardRepo } from './repo'
import { createDashboardService } from './service'

export const dashboardRoutes = (deps: Deps) => {
  const dashboard = createDashboardService({
    repo: createDashboardRepo(deps.db),
    accounts: deps.accounts.repo,
    cards: createCardsRepo(deps.db),
    flusher: deps.flusher,
    clock: deps.clock,
    timeZone: deps.config.TZ!,
    live: deps.accounts.service.live,
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
        summary: "Your full record: cards, limits, lists, mappers, today's and this month's usage",
        tags: ['Dashboard'],
      },
    })
}
