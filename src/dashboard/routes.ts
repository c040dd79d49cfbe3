// HTTP of the dashboard: GET /dashboard/x-user-status and /dashboard/x-user-info for any account.
import { Elysia } from 'elysia'
import { adminAuth } from '../accounts/auth'
import type { Deps } from '../deps'
import { UserInfo, UserStatus } from './model'
import { createDashboardRepo } from './repo'
import { createDashboardService } from './service'

export const dashboardRoutes = (deps: Deps) => {
  const dashboard = createDashboardService({
    repo: createDashboardRepo(deps.db),
    flusher: deps.flusher,
    clock: deps.clock,
    timeZone: deps.config.TZ!,
  })
  return new Elysia({ name: 'dashboard' })
    .use(adminAuth(deps.accounts.auth))
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
