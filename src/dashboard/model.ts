// TypeBox schemas of /dashboard/x-user-status, /dashboard/x-user-info and
// /dashboard/x-user-requests.
import { t, type TSchema } from 'elysia'

const Usd = (description = 'USD') => t.Number({ description })
const Nullable = <T extends TSchema>(s: T) => t.Union([s, t.Null()])
/** A list as the edit text that sets it exactly, never null. */
const ListText = (description: string) =>
  t.String({
    description: `${description}: "*" unrestricted, "-*" nothing, "a b" these, "* -a" all but a`,
  })
const Balance = Nullable(
  t.Number({ description: "USD of the account's book units; null for root (unlimited)" }),
)

export const UserStatus = t.Object({
  object: t.Literal('user_status'),
  id: t.Integer(),
  name: t.String(),
  email: t.String(),
  balance: Balance,
  dna: t.String(),
})

const Usage = {
  requests: t.Integer(),
  prompt_tokens: t.Integer(),
  completion_tokens: t.Integer(),
  cached_tokens: t.Integer(),
  cost: Usd(),
}

const Card = t.Object({
  amount: Usd(),
  balance: Usd(),
  granted_at: t.String({ format: 'date-time' }),
  expires_at: t.String({ format: 'date-time' }),
  reference: t.Optional(t.String()),
})

const Use = (what: string) =>
  t.Object(
    {
      limit: t.Integer({ description: `${what}; 0 = unlimited` }),
      used: t.Integer({ description: 'counted in the window now' }),
    },
    { description: what },
  )

const LimitUse = t.Object(
  {
    RPM: Use('requests per minute (sliding)'),
    RPH: Use('requests per hour (sliding)'),
    RPD: Use('requests per calendar day in TZ'),
    TPM: Use('tokens per minute (sliding)'),
    TPH: Use('tokens per hour (sliding)'),
    TPD: Use('tokens per calendar day in TZ'),
    Concurrency: Use('calls in flight at once (used: your calls in flight)'),
    ModelLimits: t.Record(
      t.String(),
      t.Object({
        rpm: Use('requests per minute for this model pattern'),
        tpm: Use('tokens per minute for this model pattern'),
        source: t.Union([t.Literal('account'), t.Literal('global')], {
          description: 'your own ModelLimits entry, or the global MODEL_LIMITS default',
        }),
      }),
    ),
  },
  {
    description:
      "Each limit and its current use in your own windows; a window is counted only while some limit applies to it (else used is 0). Your calls and your subtree's count; an ancestor's limits cap its whole subtree too",
  },
)

export const UserInfo = t.Object({
  object: t.Literal('user_info'),
  ID: t.Integer(),
  Name: t.String(),
  Email: t.String(),
  Alias: t.String(),
  BillingEmail: Nullable(t.String()),
  Status: t.Boolean(),
  DNA: t.String(),
  ParentID: Nullable(t.Integer()),
  Level: t.Integer(),
  Gear: t.Integer(),
  Role: t.Integer(),
  Tier: t.Integer(),
  Factor: t.Number(),
  Rates: t.Number(),
  HardLimit: Usd('monthly spend limit, USD'),
  SoftLimit: Usd('monthly alert threshold, USD'),
  RPM: t.Integer(),
  RPH: t.Integer(),
  RPD: t.Integer(),
  TPM: t.Integer(),
  TPH: t.Integer(),
  TPD: t.Integer(),
  Concurrency: t.Integer(),
  ModelLimits: Nullable(
    t.Record(t.String(), t.Object({ rpm: t.Optional(t.Integer()), tpm: t.Optional(t.Integer()) })),
  ),
  AllowIPs: ListText('client addresses or CIDRs'),
  AllowModels: ListText('model names, * wildcards'),
  AllowLevels: ListText('key levels 0–10'),
  Resources: ListText('API paths'),
  ModelMapper: Nullable(t.Record(t.String(), t.String())),
  LevelMapper: Nullable(t.Record(t.String(), t.Integer())),
  ChildLimit: t.Integer(),
  CreditGranted: Usd('the last funding (+) or deduction (-), USD'),
  CreatedAt: t.String({ format: 'date-time' }),
  UpdatedAt: t.String({ format: 'date-time' }),
  Child: t.Integer({ description: 'direct children' }),
  Balance,
  CreditBalance: t.Array(Card, { description: 'the cards, soonest expiry first' }),
  CreditUsed: Usd('lifetime spend, USD'),
  Requests: t.Integer({ description: 'lifetime requests' }),
  Held: Usd('money held by your calls in flight until they settle, USD'),
  InFlight: t.Integer({ description: 'your calls in flight now' }),
  SecretKey: t.Literal('***'),
  PartialKey: t.String(),
  Usage: t.Object({
    Today: t.Object({ date: t.String(), ...Usage }),
    Month: t.Object({ month: t.String(), ...Usage }),
  }),
  LimitUse,
})

export const RequestsQuery = t.Object({
  page: t.Optional(t.Numeric({ description: 'from 1 (default 1)' })),
  size: t.Optional(t.Numeric({ description: '1–100 (default 24)' })),
  model: t.Optional(
    t.String({ maxLength: 256, description: 'only calls to this model, as asked or as mapped' }),
  ),
  status: t.Optional(
    t.String({ maxLength: 8, description: 'only this HTTP status (429) or class (2xx, 4xx, 5xx)' }),
  ),
  u: t.Optional(
    t.String({
      maxLength: 320,
      description: 'ID, Name, Email or DNA of one account in your subtree (default: you)',
    }),
  ),
})

const RequestRecord = t.Object({
  request_id: t.String(),
  created_at: t.String({ format: 'date-time' }),
  endpoint: t.String({ description: 'the proxied path, e.g. /v1/chat/completions' }),
  model: Nullable(t.String({ description: 'as asked' })),
  mapped_model: Nullable(t.String({ description: 'as sent upstream, after the mappers' })),
  prompt_tokens: t.Integer(),
  cached_tokens: t.Integer({ description: 'prompt tokens read from the provider cache' }),
  completion_tokens: t.Integer(),
  total_tokens: t.Integer(),
  cost: Usd('charged to the account, USD of its book units'),
  status: t.Integer({ description: 'HTTP status answered to the client' }),
  latency_ms: Nullable(t.Integer()),
  ttfb_ms: Nullable(t.Integer({ description: 'time to the first byte from the provider' })),
  estimated: t.Boolean({ description: 'tokens estimated: the provider reported no usage' }),
})

export const RequestsPage = t.Object({
  object: t.Literal('list'),
  account: t.Object({ id: t.Integer(), name: t.String() }),
  data: t.Array(RequestRecord, { description: 'newest first' }),
  page: t.Integer(),
  size: t.Integer(),
  has_more: t.Boolean(),
  retention_days: t.Integer({
    description: 'records older than this are gone (USAGE_RETENTION_DAYS)',
  }),
})
