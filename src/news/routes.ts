// HTTP of news: POST/DELETE /x-news (system, root) and /x-news/{target} (root or an ancestor of
// the target), GET /dashboard/x-user-news for any account.
import { Elysia } from 'elysia'
import { adminAuth, type Authenticator } from '../accounts/auth'
import type { Tree } from '../accounts/tree'
import { gateCaller } from '../reports/ident'
import type { RequestMeta } from '../shared/request-meta'
import { DeleteQuery, NewsBody, NewsDeleted, NewsPosted, TargetParams, UserNews } from './model'
import type { NewsService } from './service'

/** What the news routes touch. The service comes built (app.ts makes it): no store is named. */
export type NewsRoutesParts = {
  auth: Authenticator
  tree: Tree
  requestMeta: WeakMap<Request, RequestMeta>
  news: NewsService
}

export const newsRoutes = (p: NewsRoutesParts) => {
  const news = p.news
  const tags = ['News']
  return new Elysia({ name: 'news' })
    .use(adminAuth(p.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(p, request, caller))
    .post(
      '/x-news',
      async ({ caller, body }) => ({
        success: true as const,
        news: await news.post(caller, undefined, body),
      }),
      {
        body: NewsBody,
        response: NewsPosted,
        detail: { summary: 'Post system news (root; 7 days by default)', tags },
      },
    )
    .post(
      '/x-news/:target',
      async ({ caller, body, params }) => ({
        success: true as const,
        news: await news.post(caller, params.target, body),
      }),
      {
        params: TargetParams,
        body: NewsBody,
        response: NewsPosted,
        detail: {
          summary: 'Post news to an account or DNA group in your subtree (32 days by default)',
          tags,
        },
      },
    )
    .delete(
      '/x-news',
      async ({ caller, query }) => ({
        success: true as const,
        deleted: await news.remove(caller, undefined, query.id),
      }),
      {
        query: DeleteQuery,
        response: NewsDeleted,
        detail: { summary: 'Delete system news (root)', tags },
      },
    )
    .delete(
      '/x-news/:target',
      async ({ caller, params, query }) => ({
        success: true as const,
        deleted: await news.remove(caller, params.target, query.id),
      }),
      {
        params: TargetParams,
        query: DeleteQuery,
        response: NewsDeleted,
        detail: {
          summary: 'Delete the news aimed at an account or DNA group in your subtree',
          tags,
        },
      },
    )
    .get('/dashboard/x-user-news', ({ caller }) => news.forAccount(caller), {
      response: UserNews,
      detail: { summary: 'Unexpired system news and the news aimed at you', tags: ['Dashboard'] },
    })
}
