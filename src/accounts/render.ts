// The JSON edge of accounts: an Account with its cards and counters becomes the PascalCase user
// object of §3 (dollars as numbers, times as ISO strings). Root's balance is unlimited: null.
import { nanoToUsd } from '../shared/money'
import { balanceOf, type Card } from '../wallet/cards'
import { isRoot } from '../wallet/moves'
import { renderList } from './lists'
import type { Account } from './repo'

export type CardJson = {
  amount: number
  balance: number
  granted_at: string
  expires_at: string
  reference?: string
}

const iso = (ms: number) => new Date(ms).toISOString()

export function cardsJson(cards: readonly Card[]): CardJson[] {
  return cards.map((c) => {
    const j: CardJson = {
      amount: nanoToUsd(c.amountNano),
      balance: nanoToUsd(c.balanceNano),
      granted_at: iso(c.grantedAtMs),
      expires_at: iso(c.expiresAtMs),
    }
    if (c.reference !== undefined) j.reference = c.reference
    return j
  })
}

/** Unexpired balance in USD of the account's book units; null for root (unlimited). */
export function balanceJson(
  account: Account,
  cards: readonly Card[],
  nowMs: number,
): number | null {
  return isRoot(account) ? null : nanoToUsd(balanceOf(cards, nowMs))
}

/** Every stored field under its §2.1 name, for the JSON answers. */
export function storedFields(a: Account) {
  return {
    ID: a.id,
    Name: a.name,
    Email: a.email,
    Alias: a.alias,
    BillingEmail: a.billingEmail,
    Status: a.status,
    DNA: a.dna,
    ParentID: a.parentId,
    Level: a.level,
    Gear: a.gear,
    Role: a.role,
    Tier: a.tier,
    Factor: a.factor,
    Rates: a.rates,
    HardLimit: nanoToUsd(a.hardLimitNano),
    SoftLimit: nanoToUsd(a.softLimitNano),
    RPM: a.rpm,
    RPH: a.rph,
    RPD: a.rpd,
    TPM: a.tpm,
    TPH: a.tph,
    TPD: a.tpd,
    Concurrency: a.concurrency,
    ModelLimits: a.modelLimits,
    // Lists as the edit text that sets them exactly ("*", "-*", "* -gpt-3.5-turbo"), never null.
    AllowIPs: renderList(a.allowIps),
    AllowModels: renderList(a.allowModels),
    AllowLevels: renderList(a.allowLevels),
    Resources: renderList(a.resources),
    ModelMapper: a.modelMapper,
    LevelMapper: a.levelMapper,
    ChildLimit: a.childLimit,
    CreditGranted: nanoToUsd(a.creditGrantedNano ?? 0),
    CreatedAt: iso(a.createdAt),
    UpdatedAt: iso(a.updatedAt),
  }
}

export type Extras = {
  cards: readonly Card[]
  child: number
  requests: number
  creditUsedNano: number
  /** Money held by the account's calls in flight, and how many they are (the wallet's holds). */
  live: Live
}

export type Live = { heldNano: number; inFlight: number }
/** The holds as the reads see them. */
export type LiveOf = (accountId: number) => Live

/** The user object of the lists: stored fields, derived counters, cards, masked key. */
export function userJson(a: Account, x: Extras, nowMs: number) {
  return {
    ...storedFields(a),
    Child: x.child,
    Balance: balanceJson(a, x.cards, nowMs),
    CreditBalance: cardsJson(x.cards),
    CreditUsed: nanoToUsd(x.creditUsedNano),
    Requests: x.requests,
    Held: nanoToUsd(x.live.heldNano),
    InFlight: x.live.inFlight,
    SecretKey: '***' as const,
    PartialKey: a.keyTail,
  }
}

export type UserJson = ReturnType<typeof userJson>

/** `Parent` of the write answers: the account whose money moved with the operation. */
export function parentJson(a: Account, cards: readonly Card[], nowMs: number) {
  return {
    ID: a.id,
    Name: a.name,
    Rates: a.rates,
    Balance: balanceJson(a, cards, nowMs),
    CreditBalance: cardsJson(cards),
  }
}

/** The §2.1 name of each Account key, for `Updates` (changed fields only). */
export function changedJson(before: Account, after: Account): Record<string, unknown> {
  const b: Record<string, unknown> = storedFields(before)
  const a: Record<string, unknown> = storedFields(after)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(a)) {
    if (k === 'UpdatedAt') continue
    if (JSON.stringify(v) !== JSON.stringify(b[k])) out[k] = v
  }
  return out
}
