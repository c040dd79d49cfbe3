// HTTP of news: POST/DELETE /x-news (system, root) and /x-news/{target} (root or an ancestor of
// the target), GET /dashboard/x-user-news for any account.
import { Elysia } from 'elysia'
import { adminAuth } from '../accounts/auth'
import type { Deps } from '../deps'
import { gateCaller } from '../reports/ident'
import { DeleteQuery, NewsBody, NewsDeleted, NewsPosted, TargetParams, UserNews } from './model'
import { createNewsService } from './service'

export const newsRoutes = (deps: Deps) => {
  const news = createNewsService({ db: deps.sql, lookup: deps.accounts.repo, clock: deps.clock })
  const tags = ['News']
  const gate = { tree: deps.accounts.tree, requestMeta: deps.requestMeta }
  return new Elysia({ name: 'news' })
    .use(adminAuth(deps.accounts.auth))
    .onBeforeHandle(({ caller, request }) => gateCaller(gate, request, caller))
    .post(
      '/x-news',
      async ({ caller, body }) => ({ success: true as const, news: await news.post(caller, undefined, body) }),
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
