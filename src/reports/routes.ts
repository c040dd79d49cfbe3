// HTTP of the usage reports: GET /x-bill (the caller's descendants) and GET /dashboard/bill
// (the caller itself).
import { Elysia } from 'elysia'
import { adminAuth, type Authenticator } from '../accounts/auth'
import type { Tree } from '../accounts/tree'
import type { RequestMeta } from '../shared/request-meta'
import { gateCaller } from './ident'
import { BillQuery, OwnBillQuery, Report } from './model'
import type { ReportService } from './service'

/** What the report routes touch. The service comes built (app.ts makes it): no store is named. */
export type ReportRoutesParts = {
  auth: Authenticator
  tree: Tree
  requestMeta: WeakMap<Request, RequestMeta>
  reports: ReportService
}

export const reportRoutes = (p: ReportRoutesParts) => {
  const reports = p.reports
  return new Elysia({ name: 'reports' })
    .use(adminAuth(p.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(p, request, caller))
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
