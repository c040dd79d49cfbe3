// The order of one proxied call (§4), top to bottom, one pass: authenticate → account enabled →
// source IP → resource → model allowed, then mapped → price known → hold on the balance → rate
// and concurrency limits reserve → key level → upstream with failover → relay back → settle (in call.ts) → write-behind.
// Every step before the upstream fetch is synchronous and in memory (an account not seen lately
// is read once first: authenticate, warm); denials are values.
import type { Account } from '../accounts/repo'
import type { Authenticator } from '../accounts/auth'
import type { Ledger } from '../wallet/ledger'
import type { Pricing, ResolvedPrice } from '../billing/pricing'
import type { Config } from '../config'
import type { RequestMeta } from '../shared/request-meta'
import { AppError, denialToError, type Denial } from '../shared/errors'
import { newRequestId } from '../shared/ids'
import { parseJson, readBody, upstreamJson, upstreamMultipart, type ParsedBody } from './body'
import { Call, imagesAsked, type CallDeps } from './call'
import { ROOT_ID } from '../shared/ids'
import { NANO_PER_USD } from '../shared/money'
import type { Hold, Holds } from '../wallet/holds'
import { holdNano } from '../wallet/estimate'
import type { Endpoint } from './endpoints'
import type { LimitsGate } from './gate'
import type { Policies, Policy } from './policy'
import type { Rules } from './rules'
import { forward, type UpstreamDeps } from './upstream'

export type PipelineDeps = {
  config: Config
  auth: Authenticator
  policies: Policies
  rules: () => Rules
  pricing: () => Pricing
  ledger: Ledger
  holds: Holds
  gate: LimitsGate
  /**
   * Several nodes: the hold is admitted by the shared money counter in the gate's Redis round
   * trip; the wallet here only records it.
   */
  sharedMoney?: boolean
  /** The account's ancestors and cards into memory; undefined when they are there (no await). */
  warm: (account: Account) => Promise<void> | undefined
  /** The store is failing and the write-behind buffer is full: a call's usage could not be kept. */
  storeFull: () => boolean
  requestMeta: WeakMap<Request, RequestMeta>
  upstream: UpstreamDeps
  call: Omit<CallDeps, 'gate'>
}

const deny = (code: Denial['code'], message: string): never => {
  throw denialToError({ ok: false, code, message })
}

function priceStep(d: PipelineDeps, ep: Endpoint, mapped: string): ResolvedPrice | undefined {
  if (ep.free) return undefined
  const price = d.pricing().lookup(mapped)
  if (!price && !d.rules().allowUnpriced) {
    deny(
      'model_not_priced',
      `model ${mapped} has no price; ask the operator to add it to MODEL_PRICES`,
    )
  }
  return price
}

/**
 * The call's hold: its worst-case cost set aside from the balance, admitted only while the
 * balance less open holds covers it and keeps CALL_MIN_BALANCE (book units: real value × Rates).
 * Root: counted in flight, nothing held.
 */
function holdStep(
  d: PipelineDeps,
  account: Account,
  ep: Endpoint,
  body: ParsedBody,
  price: ResolvedPrice | undefined,
): Hold {
  if (account.id === ROOT_ID) return d.holds.track(account.id)
  const minNano = minBalanceNano(d, account)
  const nano = price
    ? holdNano({
        price,
        json: body.json,
        text: body.text,
        images: ep.kind === 'images' ? imagesAsked(body.json?.n) : 0,
        rates: account.rates,
        defaultOutputTokens: d.config.HOLD_DEFAULT_OUTPUT_TOKENS,
      })
    : 0
  // Several nodes: admitted by the gate's Redis script (sharedMoney below), only recorded here.
  if (d.sharedMoney) return d.holds.take(account.id, nano)
  const held = d.holds.place(account.id, nano, d.ledger.balanceOf(account.id), minNano)
  if ('code' in held) throw denialToError(held)
  return held
}

/** CALL_MIN_BALANCE in the account's book units. */
const minBalanceNano = (d: PipelineDeps, account: Account) =>
  Math.round(d.config.CALL_MIN_BALANCE * NANO_PER_USD * account.rates)

/** Several nodes: the hold the gate's script takes from the shared counter (none for root). */
const sharedMoney = (d: PipelineDeps, account: Account, hold: Hold) =>
  d.sharedMoney && account.id !== ROOT_ID
    ? { holdNano: hold.nano, minNano: minBalanceNano(d, account) }
    : undefined

/** The call's level and its SWITCH_OVER chain (each level once), within AllowLevels. */
function levelsStep(rules: Rules, policy: Policy, body: ParsedBody, mapped: string): number[] {
  const first = policy.levelFor(body.model, mapped)
  if (!policy.levelAllowed(first))
    deny('level_not_allowed', `key level ${first} is not allowed for this account`)
  const levels = [first]
  for (
    let next = rules.switchOver.get(first);
    next !== undefined && !levels.includes(next);
    next = rules.switchOver.get(next)
  ) {
    if (policy.levelAllowed(next)) levels.push(next)
  }
  return levels
}

export function createPipeline(d: PipelineDeps) {
  const gate = d.gate
  const callDeps: CallDeps = { ...d.call, gate }
  return async function handle(
    request: Request,
    ep: Endpoint,
    given?: RequestMeta,
  ): Promise<Response> {
    const meta = given ??
      d.requestMeta.get(request) ?? { id: newRequestId(d.call.clock.now()), ip: '' }
    const startedAtMs = d.call.clock.now()
    if (d.storeFull()) {
      throw new AppError(
        'store_unavailable',
        'the database is unreachable and the usage waiting for it fills the buffer; try again shortly',
        { headers: { 'retry-after': '5' } },
      )
    }
    const known = d.auth.authenticate(request.headers)
    const account = known instanceof Promise ? await known : known
    meta.accountId = account.id
    // An account not seen lately: its ancestors and cards are read once, then served from memory.
    const warming = d.warm(account)
    if (warming) await warming
    const policy = d.policies.of(account)
    if (!policy.enabled) throw new AppError('account_disabled', 'account is disabled')
    if (!policy.ipAllowed(meta.ip))
      deny('ip_not_allowed', `source address ${meta.ip} is not allowed`)
    if (!policy.resourceAllowed(ep.path))
      deny('resource_not_allowed', `${ep.path} is not allowed for this key`)
    const read = await readBody(request, ep)
    const body = typeof read === 'string' ? parseJson(read, ep) : read
    if (!policy.modelAllowed(body.model))
      deny('model_not_allowed', `model ${body.model} is not allowed for this key`)
    const mapped = policy.mapModel(body.model)
    const price = priceStep(d, ep, mapped)
    const hold = holdStep(d, account, ep, body, price)
    const asked = gate.reserve({
      account,
      model: body.model,
      mappedModel: mapped,
      body: body.json,
      callId: meta.id,
      money: sharedMoney(d, account, hold),
    })
    const reserved = asked instanceof Promise ? await asked : asked
    if (!reserved.ok) {
      d.holds.settle(hold, 0)
      throw denialToError(reserved)
    }
    const rules = d.rules()
    let levels: number[]
    try {
      levels = levelsStep(rules, policy, body, mapped)
    } catch (e) {
      gate.release(reserved.ticket)
      d.holds.settle(hold, 0)
      throw e
    }

    // From here on the call is admitted: it settles exactly once, whatever happens.
    const hideUsage = ep.usageOption && body.stream && !body.clientWantsUsage
    const json = body.multipart ? '' : upstreamJson(body, mapped, hideUsage)
    const upBody = body.multipart
      ? upstreamMultipart(body.multipart, mapped, body.model)
      : () => json
    const call = new Call(
      callDeps,
      {
        requestId: meta.id,
        clientIp: meta.ip,
        startedAtMs,
        account,
        endpoint: ep,
        body,
        mappedModel: mapped,
        price,
        ticket: reserved.ticket,
        hold,
        uplinkBytes: body.text?.length ?? body.multipart?.head.length ?? 0,
      },
      request,
    )
    let up
    try {
      up = await forward(d.upstream, {
        endpoint: ep,
        levels,
        body: upBody,
        contentType: body.contentType,
        headers: request.headers,
        cancel: call,
      })
    } catch (e) {
      call.settle(502, 'error', 0)
      throw e
    }
    if (!up.ok) return call.fail(up)
    return call.respond(up, hideUsage)
  }
}
