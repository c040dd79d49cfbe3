// HTTP of the operation log: GET /dashboard/x-user-logs for any enabled account.
import { Elysia, t } from 'elysia'
import type { Authenticator } from '../accounts/auth'
import type { Tree } from '../accounts/tree'
import { AppError } from '../shared/errors'
import type { RequestMeta } from '../shared/request-meta'
import { MAX_LOG_PAGE_SIZE, type createLogService } from './service'

const LogQuery = t.Object({
  page: t.Optional(t.Numeric({ description: 'from 1 (default 1)' })),
  size: t.Optional(t.Numeric({ description: `1–${MAX_LOG_PAGE_SIZE} (default 24)` })),
  action: t.Optional(
    t.String({
      maxLength: 32,
      description: 'add_user, update_user, recharge, deduct, delete_user, …',
    }),
  ),
  target_id: t.Optional(t.Numeric({ description: 'only operations on this account ID' })),
  status: t.Optional(t.String({ maxLength: 16, description: 'success or failure' })),
})

const LogPage = t.Object({
  logs: t.Array(
    t.Object({
      id: t.Integer(),
      action: t.String(),
      operator_id: t.Integer(),
      target_id: t.Union([t.Integer(), t.Null()]),
      details: t.String({
        description: 'what happened, in words ("Created user with email: prod@company.com")',
      }),
      data: t.Record(t.String(), t.Unknown(), {
        description: 'the structured details of the operation',
      }),
      status: t.String(),
      created_at: t.String({ description: 'YYYY-MM-DD HH:MM:SS, local time in TZ' }),
    }),
  ),
  total: t.Integer(),
  page: t.Integer(),
  size: t.Integer(),
  has_more: t.Boolean(),
})

/** What the log route touches. The service comes built (app.ts makes it): no store is named. */
export type LogRoutesParts = {
  auth: Authenticator
  tree: Tree
  requestMeta: WeakMap<Request, RequestMeta>
  logs: ReturnType<typeof createLogService>
}

export const logRoutes = (p: LogRoutesParts) => {
  const logs = p.logs
  return new Elysia({ name: 'logs' })
    .derive(async ({ request }) => {
      const caller = await p.auth.authenticate(request.headers)
      const meta = p.requestMeta.get(request)
      if (meta) meta.accountId = caller.id
      if (!(await p.tree.usable(caller))) {
        throw new AppError('account_disabled', 'account is disabled (itself or an ancestor)')
      }
      return { caller }
    })
    .get('/dashboard/x-user-logs', ({ caller, query }) => logs.list(caller, query), {
      query: LogQuery,
      response: LogPage,
      detail: {
        summary: 'Operation log: what you did and what targeted your subtree, newest first',
        tags: ['Dashboard'],
      },
    })
}
