// TypeBox schemas of key rotation: POST /x-self and POST /x-root.
import { t } from 'elysia'

export const SelfBody = t.Object({
  confirm: t.String({
    maxLength: 64,
    description: 'YYYY-MM-DD-ROTATE-SELF, today in TZ (UTC also accepted)',
  }),
})

export const RootBody = t.Object({
  confirm: t.String({
    maxLength: 64,
    description: 'YYYY-MM-DD-ROTATE-ROOT, today in TZ (UTC also accepted)',
  }),
  name: t.Optional(
    t.String({
      maxLength: 320,
      description: "the account (ID, Name, Email or DNA); default root's own key",
    }),
  ),
  key: t.Optional(
    t.String({
      maxLength: 64,
      description: 'the new key (sk-Xvs + 45 letters or digits); default a fresh one',
    }),
  ),
})

export const Rotated = t.Object({
  success: t.Literal(true),
  message: t.String(),
  rotate: t.Object({
    action: t.Union([t.Literal('rotate_self'), t.Literal('rotate_root')]),
    id: t.Integer(),
    name: t.String(),
    key: t.String({ description: 'the new key, shown this once' }),
    timestamp: t.String({ format: 'date-time' }),
  }),
})
