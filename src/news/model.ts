// TypeBox schemas of news: POST/DELETE /x-news[/{target}] and GET /dashboard/x-user-news.
import { t } from 'elysia'

export const NewsBody = t.Object({
  title: t.String({ minLength: 1, maxLength: 200 }),
  content: t.String({ minLength: 1, maxLength: 20_000 }),
  days: t.Optional(
    t.Integer({ minimum: 1, maximum: 365, description: 'default 7 (system) or 32 (targeted)' }),
  ),
})

export const TargetParams = t.Object({
  target: t.String({
    maxLength: 320,
    description: 'ID, Name or Email (one account) or DNA (a group)',
  }),
})

export const DeleteQuery = t.Object({
  id: t.Optional(t.Numeric({ description: 'one item; without it every item of that scope' })),
})

export const NewsItem = t.Object({
  id: t.Integer(),
  title: t.String(),
  content: t.String(),
  target: t.Union([t.String(), t.Null()], {
    description: 'null = system; an account ID; or a DNA group',
  }),
  created_at: t.String({ format: 'date-time' }),
  expires_at: t.String({ format: 'date-time' }),
})

export const NewsPosted = t.Object({ success: t.Literal(true), news: NewsItem })
export const NewsDeleted = t.Object({ success: t.Literal(true), deleted: t.Integer() })
export const UserNews = t.Object({
  success: t.Literal(true),
  system_news: t.Array(NewsItem),
  user_news: t.Array(NewsItem),
})
