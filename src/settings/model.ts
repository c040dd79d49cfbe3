// TypeBox schemas of /x-config (§7.5).
import { t } from 'elysia'

const Configs = t.Record(t.String(), t.String(), {
  description:
    'the keys that have a value, each as the string a client would POST (EMAIL_PASS shown as ' +
    '***); keys without a value are left out',
})
const Sources = t.Record(
  t.String(),
  t.Union([t.Literal('stored'), t.Literal('env'), t.Literal('default'), t.Literal('unset')]),
  {
    description:
      'every key: stored = set through /x-config; env = environment or config file; ' +
      "default = xgate's built-in value; unset = no value",
  },
)

export const ConfigBody = t.Record(t.String(), t.Unknown(), {
  description:
    'a subset of MODEL_MAPPER, MODEL_PROVIDERS, LEVEL_MAPPER, SWITCH_OVER, RESOURCES, MODEL_LIMITS, MODEL_PRICES, ' +
    'ALLOW_UNPRICED_MODELS, XAI_MAIL, EMAIL_SMTP, EMAIL_PORT, EMAIL_AUTH, EMAIL_PASS, ' +
    'EMAIL_SENDER, EMAIL_TLS, EMAIL_BALANCE',
})

export const ResetBody = t.Object({
  keys: t.Array(t.String({ maxLength: 64 }), { minItems: 1, maxItems: 64 }),
})

export const ConfigView = t.Object({ success: t.Literal(true), configs: Configs, sources: Sources })

export const ConfigSet = t.Object({
  success: t.Literal(true),
  updated: t.Array(t.String()),
  configs: Configs,
  sources: Sources,
})

export const ConfigReset = t.Object({
  success: t.Literal(true),
  reset: t.Array(t.String()),
  removed: t.Array(t.String(), { description: 'the keys that had a stored value' }),
  configs: Configs,
  sources: Sources,
})
