// TypeBox schemas of the upstream-key admin API (/x-keys, /x-gkey); the OpenAPI docs come from here.
import { t } from 'elysia'

const Type = t.Union([t.Literal('openai'), t.Literal('anthropic')], {
  description: 'inferred from Provider when absent',
})

const fields = {
  SecretKey: t.String({
    minLength: 1,
    maxLength: 1024,
    description: 'the provider secret; stored encrypted, never shown again',
  }),
  // Any printable text (spaces and non-Latin letters included); control characters would corrupt
  // log lines and tables.
  Name: t.String({ minLength: 1, maxLength: 64, pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]+$' }),
  Level: t.Integer({ minimum: 0, maximum: 10, description: 'default 1' }),
  Provider: t.String({
    minLength: 1,
    maxLength: 2048,
    description: 'base URL, e.g. https://api.openai.com',
  }),
  Type,
  Status: t.Boolean({
    description:
      'false switches the key off; true switches it on and clears sleep and upstream refusals',
  }),
  Weight: t.Integer({ minimum: 1, maximum: 1000, description: 'default 1' }),
  Concurrency: t.Integer({
    minimum: 0,
    maximum: 100_000,
    description: 'calls in flight on this key at once; 0 = unlimited (default)',
  }),
}

export const KeyCreate = t.Object({
  SecretKey: fields.SecretKey,
  Name: t.Optional(fields.Name),
  Level: t.Optional(fields.Level),
  Provider: fields.Provider,
  Type: t.Optional(Type),
  Status: t.Optional(fields.Status),
  Weight: t.Optional(fields.Weight),
  Concurrency: t.Optional(fields.Concurrency),
})

export const KeyUpdate = t.Partial(t.Object(fields))

export const KeyView = t.Object({
  ID: t.Integer(),
  Name: t.String(),
  SecretKey: t.String({ description: 'masked: *** and the last 4 characters' }),
  PartialKey: t.String(),
  Level: t.Integer(),
  Provider: t.String(),
  Type,
  Status: t.Boolean(),
  Weight: t.Integer(),
  Concurrency: t.Integer(),
  InFlight: t.Integer({ description: 'calls on this key now' }),
  State: t.Union([t.Literal('active'), t.Literal('sleeping'), t.Literal('disabled')]),
  SleepUntil: t.Union([t.String(), t.Null()]),
  DisabledReason: t.Union([t.String(), t.Null()]),
  Requests: t.Integer(),
  Errors: t.Integer(),
  CreatedAt: t.String(),
  UpdatedAt: t.String(),
})

export const KeyList = t.Array(KeyView)

export const KeyIdent = t.Object({
  id: t.String({ minLength: 1, maxLength: 64, description: 'numeric ID or Name' }),
})

export const KeyQuery = t.Object({
  level: t.Optional(t.Numeric({ minimum: 0, maximum: 10 })),
  provider: t.Optional(
    t.String({ maxLength: 2048, description: 'substring of the base URL, or a type' }),
  ),
  status: t.Optional(
    t.String({
      maxLength: 16,
      description: 'true/false (switch) or active/sleeping/disabled (live state)',
    }),
  ),
})

export const KeyAction = (action: string) => t.Object({ Action: t.Literal(action), Key: KeyView })

export const KeyDeleted = t.Object({
  Action: t.Literal('delete'),
  Key: t.Object({ ID: t.Integer(), Name: t.String() }),
})

export const GeneratedKey = t.Object({ key: t.String() })
