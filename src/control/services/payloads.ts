// Reading and writing the TypedMessage payloads of HandlerService: inbound operations, the
// account inside User.account, and the upstream key inside OutboundHandlerConfig.proxy_settings.
//
// Account mapping (AddUserOperation.user): email -> account Email, level -> Level (0 = inherit),
// account = TypedMessage of
//   - "xgate.Account" {key, name, credit_nanousd}: our own message;
//   - an Xray/V2Ray VLESS or VMess Account (xray.proxy.vless.Account,
//     v2ray.core.proxy.vmess.Account, ...): its field 1 `id` is the account key, and must then be
//     in xgate's key format;
//   - absent: the gateway generates the key.
// Outbound mapping (AddOutbound.outbound): tag -> key Name; proxy_settings = TypedMessage
// "xgate.UpstreamKey" {provider, secret, level, type, weight}; sender_settings, expire and
// comment are ignored. ListOutbounds answers the same shape with the secret masked.

import type { InboundUser, NewUpstreamKey, NewUser, UpstreamKeyView } from '../backend'
import { ControlError, GrpcStatus } from '../errors'
import { decode, lookupType, typed, type Plain } from '../protos'

export type TypedMessage = { type: string; value: Uint8Array }

const KEY_FORMAT = /^sk-Xvs[A-Za-z0-9]{45}$/
const ID_ACCOUNT_TYPES = new Set(
  ['xray.proxy', 'v2ray.core.proxy'].flatMap((p) => [`${p}.vless.Account`, `${p}.vmess.Account`]),
)
const MAX_LEVEL = 10

function invalid(message: string): ControlError {
  return new ControlError(GrpcStatus.INVALID_ARGUMENT, message)
}

/** Decodes value as typeName, or INVALID_ARGUMENT naming what was malformed. */
function decodeAs(typeName: string, value: Uint8Array, what: string): Plain {
  try {
    return decode(lookupType(typeName), value)
  } catch (e) {
    throw invalid(`malformed ${what} (${typeName}): ${(e as Error).message}`)
  }
}

/** True when the TypedMessage slot was left empty (proto3 gives {type: '', value: <empty>}). */
export function isEmptyTyped(t: TypedMessage | null | undefined): boolean {
  return !t || (t.type === '' && t.value.length === 0)
}

export type InboundOperation = { kind: 'add'; user: NewUser } | { kind: 'remove'; email: string }

/** AlterInbound's operation; Xray and legacy V2Ray type names are both accepted. */
export function parseInboundOperation(op: TypedMessage | null | undefined): InboundOperation {
  if (isEmptyTyped(op) || !op) throw invalid('operation is required')
  const short = op.type.replace(/^(xray|v2ray\.core)\.app\.proxyman\.command\./, '')
  if (short === 'AddUserOperation') {
    const { user } = decodeAs('xray.app.proxyman.command.AddUserOperation', op.value, 'operation')
    if (!user) throw invalid('AddUserOperation.user is required')
    return { kind: 'add', user: parseUser(user as Plain) }
  }
  if (short === 'RemoveUserOperation') {
    const { email } = decodeAs(
      'xray.app.proxyman.command.RemoveUserOperation',
      op.value,
      'operation',
    )
    if (!email) throw invalid('RemoveUserOperation.email is required')
    return { kind: 'remove', email: email as string }
  }
  throw invalid(`unknown inbound operation type "${op.type}"`)
}

function parseUser(u: Plain): NewUser {
  const email = String(u.email ?? '').trim()
  if (!email) throw invalid('user.email is required')
  const level = Number(u.level ?? 0)
  if (level > MAX_LEVEL) throw invalid(`user.level ${level} is above ${MAX_LEVEL}`)
  const user: NewUser = { email }
  if (level > 0) user.level = level
  Object.assign(user, parseAccount(u.account as TypedMessage | null))
  return user
}

function checkKey(key: string, where: string): string {
  if (!KEY_FORMAT.test(key)) {
    throw invalid(`${where} must be an xgate key: sk-Xvs followed by 45 letters or digits`)
  }
  return key
}

function parseAccount(acc: TypedMessage | null): Partial<NewUser> {
  if (isEmptyTyped(acc) || !acc) return {}
  if (acc.type === 'xgate.Account') {
    const a = decodeAs('xgate.Account', acc.value, 'account')
    const out: Partial<NewUser> = {}
    if (a.key) out.accountKey = checkKey(String(a.key), 'xgate.Account.key')
    if (a.name) out.name = String(a.name)
    const credit = Number(a.credit_nanousd ?? 0)
    if (credit < 0 || !Number.isSafeInteger(credit)) {
      throw invalid('xgate.Account.credit_nanousd must be a non-negative integer below 2^53')
    }
    if (credit > 0) out.creditNano = credit
    return out
  }
  if (ID_ACCOUNT_TYPES.has(acc.type)) {
    const { id } = decodeAs('xgate.IdAccount', acc.value, 'account')
    return { accountKey: checkKey(String(id ?? ''), `${acc.type} id`) }
  }
  throw invalid(`unsupported account type "${acc.type}": send xgate.Account {key, name}`)
}

/** AddOutbound's config as a new upstream key. */
export function parseOutbound(cfg: Plain | null | undefined): NewUpstreamKey {
  if (!cfg) throw invalid('outbound is required')
  const tag = String(cfg.tag ?? '').trim()
  if (!tag) throw invalid('outbound.tag (the key name) is required')
  const ps = cfg.proxy_settings as TypedMessage | null
  if (isEmptyTyped(ps) || !ps)
    throw invalid('outbound.proxy_settings (xgate.UpstreamKey) is required')
  if (ps.type !== 'xgate.UpstreamKey') {
    throw invalid(`unsupported proxy_settings type "${ps.type}": send xgate.UpstreamKey`)
  }
  const k = decodeAs('xgate.UpstreamKey', ps.value, 'proxy_settings')
  const provider = String(k.provider ?? '')
  if (!isHttpUrl(provider)) throw invalid('xgate.UpstreamKey.provider must be an http(s) base URL')
  const secret = String(k.secret ?? '')
  if (!secret) throw invalid('xgate.UpstreamKey.secret is required')
  const key: NewUpstreamKey = { tag, provider, secret }
  if (k.level !== undefined) {
    if (Number(k.level) > MAX_LEVEL) throw invalid(`xgate.UpstreamKey.level is above ${MAX_LEVEL}`)
    key.level = Number(k.level)
  }
  if (k.type === 'openai' || k.type === 'anthropic') key.type = k.type
  else if (k.type) throw invalid('xgate.UpstreamKey.type must be "openai", "anthropic" or ""')
  if (k.weight !== undefined) key.weight = Number(k.weight)
  return key
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

/** A user for GetInboundUsers: name in xgate.Account, never the key. */
export function userMessage(u: InboundUser): Plain {
  return { email: u.email, level: u.level, account: typed('xgate.Account', { name: u.name }) }
}

export function outboundMessage(k: UpstreamKeyView): Plain {
  const { tag, provider, secretMasked, level, type, weight } = k
  const settings = { provider, secret: secretMasked, level, type, weight }
  return { tag, proxy_settings: typed('xgate.UpstreamKey', settings) }
}
