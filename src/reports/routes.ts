// HTTP of the usage reports: GET /x-bill (the caller's descendants) and GET /dashboard/bill
// (the caller itself).
import { Elysia } from 'elysia'
import { adminAuth } from '../accounts/auth'
import type { Deps } from '../deps'
import { gateCaller } from './ident'
import { BillQuery, OwnBillQuery, Report } from './model'
import { createReportsRepo } from './repo'
import { createReportService } from './service'

export const reportRoutes = (deps: Deps) => {
  const reports = createReportService({
    repo: createReportsRepo(deps.sql),
    lookup: deps.accounts.repo,
    flusher: deps.flusher,
    clock: deps.clock,
    timeZone: deps.config.TZ!,
  })
  const gate = { tree: deps.accounts.tree, requestMeta: deps.requestMeta }
  return new Elysia({ name: 'reports' })
    .use(adminAuth(deps.accounts.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(gate, request, caller))
    .get('/x-bill', ({ caller, query }) => reports.bill(caller, query), {
      query: BillQuery,
      response: Report,
      detail: {
        summary: "Usage of the caller's descendants, one row per day (default: this month)",
        tags: ['Reports'],
      },
    })
    .get('/dashboard/bill', ({ caller, query }) => reports.own(caller, query), {
      query: OwnBillQuery,
      response: Report,
      detail: { summary: "The caller's own usage, in the /x-bill shape", tags: ['Dashboard'] },
    })
}
