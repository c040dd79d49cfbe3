// TypeBox models of the subaccount API (§2.1, §3): bodies with the PascalCase field names that
// XAI clients send, list queries, path identifiers, and the answers, for validation and /swagger.
import { t } from 'elysia'
import { MAX_LIMIT_USD, MAX_RATES } from './values'
import { MAX_PAGE_SIZE } from './listing'

const Int32 = t.Integer({ minimum: -2_147_483_648, maximum: 2_147_483_647 })
const Limit = (description: string) =>
  t.Integer({ minimum: 0, maximum: 1_000_000_000_000, description })
const Usd = (description: string) => t.Number({ minimum: 0, maximum: MAX_LIMIT_USD, description })
const ListEdit = (description: string) =>
  t.Union(
    [
      t.String({ maxLength: 16_384 }),
      t.Array(t.Union([t.String({ maxLength: 256 }), t.Number()]), { maxItems: 256 }),
    ],
    {
      description:
        `${description}. Edit: "a b" adds, "-a b" removes (on an unrestricted list "-a" leaves ` +
        'all but a), "+a" allows a again, "*" unrestricted, "-*" blocks all, "* -a -b" all but a and b',
    },
  )

/** A list as answers show it: the edit text that sets it exactly, never null. */
const ListText = (description: string) =>
  t.String({
    description: `${description}: "*" unrestricted, "-*" nothing, "a b" these, "* -a" all but a`,
    examples: ['*'],
  })

const fields = {
  Alias: t.String({ maxLength: 256, description: 'display name, default Name' }),
  BillingEmail: t.Union([t.String({ maxLength: 320 }), t.Null()], {
    description: 'alerts go here; null clears',
  }),
  Status: t.Boolean({ description: 'false disables the account and its whole subtree' }),
  Level: t.Integer({ minimum: 0, maximum: 10, description: 'default key-pool level (root only)' }),
  Gear: Int32,
  Role: Int32,
  Tier: Int32,
  Factor: t.Number(),
  Rates: t.Number({
    exclusiveMinimum: 0,
    maximum: MAX_RATES,
    description: "price multiplier, ≥ parent's",
  }),
  HardLimit: Usd('monthly spend cap, USD (default 10 × CreditGranted)'),
  SoftLimit: Usd('monthly alert threshold, USD (default 80 % of HardLimit)'),
  RPM: Limit("requests per minute; 0 = none of its own; never above the parent's"),
  RPH: Limit('requests per hour'),
  RPD: Limit('requests per day (TZ)'),
  TPM: Limit('tokens per minute'),
  TPH: Limit('tokens per hour'),
  TPD: Limit('tokens per day (TZ)'),
  Concurrency: Limit("calls in flight at once; 0 = unlimited; never above the parent's"),
  ChildLimit: Limit('most direct children; 0 = unlimited'),
  ModelLimits: t.Union([t.Record(t.String({ maxLength: 128 }), t.Unknown()), t.Null()], {
    description: '{model: {rpm, tpm}}; null clears',
  }),
  AllowIPs: ListEdit('client addresses or CIDRs (v4, v6)'),
  AllowModels: ListEdit('model names, * wildcards'),
  AllowLevels: ListEdit('key levels 0–10'),
  Resources: ListEdit('API paths like /v1/chat/completions or /v1/*'),
  ModelMapper: t.Union(
    [t.Record(t.String(), t.Unknown()), t.String({ maxLength: 16_384 }), t.Null()],
    {
      description: '{pattern: model} or "pattern=model …" (root only)',
    },
  ),
  LevelMapper: t.Union(
    [t.Record(t.String(), t.Unknown()), t.String({ maxLength: 16_384 }), t.Null()],
    {
      description: '{pattern: level} or "pattern=level …" (root only)',
    },
  ),
  Days: t.Number({
    exclusiveMinimum: 0,
    maximum: 365,
    description: 'validity of the new card, days (default 365)',
  }),
}

export const CreateUserBody = t.Object(
  {
    Name: t.String({ maxLength: 256, description: '4–63 characters, at least one letter, unique' }),
    Email: t.String({ maxLength: 320, description: 'unique' }),
    CreditGranted: t.Number({ description: 'first card, USD of the child (≥ USER_MIN_BALANCE)' }),
    ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, t.Optional(v)])),
  },
  { additionalProperties: false },
)

export const UpdateUserBody = t.Object(
  {
    Name: t.Optional(t.String({ maxLength: 256 })),
    Email: t.Optional(t.String({ maxLength: 320 })),
    CreditGranted: t.Optional(
      t.Number({
        description: '> 0 funds a card of that many USD; < 0 deducts (refund to you minus $0.20)',
      }),
    ),
    ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, t.Optional(v)])),
  },
  { additionalProperties: false },
)

// Ranges are checked by the service, which names the parameter (TypeBox's coercion loses it).
export const ListQuery = t.Object({
  id: t.Optional(t.Numeric({ description: 'only this ID' })),
  name: t.Optional(t.String({ maxLength: 256, description: 'only this Name' })),
  email: t.Optional(t.String({ maxLength: 320, description: 'only this Email' })),
  level: t.Optional(t.Numeric({ description: 'only this Level' })),
  dna: t.Optional(t.String({ maxLength: 1024, description: 'only this DNA and its subtree' })),
  page: t.Optional(t.Numeric({ description: 'from 1 (default 1)' })),
  size: t.Optional(t.Numeric({ description: `1–${MAX_PAGE_SIZE} (default 100)` })),
})

export const IdentParams = t.Object({
  id: t.String({
    minLength: 1,
    maxLength: 1024,
    description: 'ID, Name, Email or DNA (.1.42.); in lists also L{n} G{n} R{n} T{n} F{n}',
  }),
})

const Card = t.Object({
  amount: t.Number(),
  balance: t.Number(),
  granted_at: t.String(),
  expires_at: t.String(),
  reference: t.Optional(t.String()),
})

const Money = {
  ID: t.Integer(),
  Name: t.String(),
  Balance: t.Union([t.Number(), t.Null()], {
    description: 'USD in own book units; null for root (unlimited)',
  }),
  CreditBalance: t.Array(Card),
}

const open = { additionalProperties: true }

export const UserObject = t.Object(
  {
    ...Money,
    Email: t.String(),
    DNA: t.String(),
    Rates: t.Number(),
    Status: t.Boolean(),
    AllowIPs: ListText('client addresses or CIDRs'),
    AllowModels: ListText('model names, * wildcards'),
    AllowLevels: ListText('key levels 0–10'),
    Resources: ListText('API paths'),
    SecretKey: t.Literal('***'),
    PartialKey: t.String(),
  },
  open,
)
export const UserList = t.Array(UserObject)

export const AddAnswer = t.Object({
  Action: t.Literal('add'),
  Parent: t.Object(Money, open),
  User: t.Object({
    ID: t.Integer(),
    Name: t.String(),
    SecretKey: t.String(),
    Updates: t.Object(Money, open),
  }),
})

export const UpdateAnswer = t.Object({
  Action: t.Literal('update'),
  Parent: t.Object(Money, open),
  User: t.Object({ ID: t.Integer(), Name: t.String(), Updates: t.Object({}, open) }),
})

export const DeleteAnswer = t.Object({
  Action: t.Literal('delete'),
  Parent: t.Object(Money, open),
  User: t.Object(
    { ID: t.Integer(), Name: t.String(), Rates: t.Number(), CreditBalance: t.Array(Card) },
    open,
  ),
})
