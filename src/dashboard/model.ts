// TypeBox schemas of /dashboard/x-user-status and /dashboard/x-user-info.
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
})
