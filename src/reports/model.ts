// TypeBox schemas of the usage reports: the query of /x-bill and /dashboard/bill and the §6 shape.
import { t } from 'elysia'

const dateParam = (what: string) =>
  t.Optional(t.String({ maxLength: 32, description: `${what} (YYYY-MM-DD, TZ calendar)` }))

export const RangeQuery = {
  d: dateParam('one day'),
  date: dateParam('one day, same as d'),
  s: dateParam('first day'),
  start: dateParam('first day, same as s'),
  e: dateParam('last day, included'),
  end: dateParam('last day, same as e'),
  days: t.Optional(
    t.String({ maxLength: 8, description: 'number of days (1–366), up to e or today, or from s' }),
  ),
}

export const OwnBillQuery = t.Object(RangeQuery)

export const BillQuery = t.Object({
  u: t.Optional(
    t.String({
      maxLength: 320,
      description:
        'ID, Name or Email (that account), DNA (its subtree) or L/G/R/T/F{n}; ' +
        'default every descendant',
    }),
  ),
  user: t.Optional(t.String({ maxLength: 320, description: 'same as u' })),
  ...RangeQuery,
})

const ModelUsage = t.Object({
  requests: t.Integer(),
  prompt: t.Integer(),
  completion: t.Integer(),
  cached: t.Integer({ description: 'prompt tokens read from the provider cache (part of prompt)' }),
  cache_write: t.Integer({
    description: 'prompt tokens written to the provider cache (part of prompt)',
  }),
  cost: t.Number({ description: 'USD' }),
})

export const Report = t.Object({
  object: t.Literal('list'),
  data: t.Array(
    t.Object({
      aggregation_timestamp: t.Integer({ description: "unix seconds of the day's start in TZ" }),
      n_requests: t.Integer(),
      n_context_tokens_total: t.Integer(),
      n_generated_tokens_total: t.Integer(),
      n_cached_tokens_total: t.Integer(),
      n_cache_write_tokens_total: t.Integer(),
      usage_details: t.Record(t.String(), ModelUsage),
    }),
  ),
  total_usage: t.Object({ requests: t.Integer(), cost: t.Number({ description: 'USD' }) }),
  usage_users: t.Array(
    t.Object({
      id: t.Integer(),
      name: t.String(),
      email: t.String(),
      total_requests: t.Integer(),
      total_cost: t.Number({ description: 'USD' }),
      usage_analysis: t.Object({
        request_percentage: t.Number({ description: 'two decimals; the list sums to 100' }),
        cost_percentage: t.Number({ description: 'two decimals; the list sums to 100' }),
      }),
    }),
  ),
})
