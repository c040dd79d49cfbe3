// Account keys (`sk-Xvs` + 45 alphanumerics from a CSPRNG), their SHA-256 form, constant-time
// comparison, and request ids.
import { randomBytes } from 'node:crypto'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
export const KEY_PREFIX = 'sk-Xvs'
export const KEY_LENGTH = 51
const KEY_RE = /^sk-Xvs[A-Za-z0-9]{45}$/

/** A fresh account key. Rejection sampling keeps every character uniform over the 62 symbols. */
export function generateKey(): string {
  let out = KEY_PREFIX
  while (out.length < KEY_LENGTH) {
    for (const b of randomBytes(64)) {
      if (b < 248 && out.length < KEY_LENGTH) out += ALPHABET[b % 62]
    }
  }
  return out
}

export function isKeyFormat(key: string): boolean {
  return KEY_RE.test(key)
}

/** Hex SHA-256 of a key: the only form in which account keys are stored. */
export function hashKey(key: string): string {
  // Bun's one-shot SHA-256: a third of the cost of node:crypto's createHash on the hot path.
  return Bun.SHA256.hash(key, 'hex')
}

/**
 * Constant-time equality of two hex digests of equal length: every character is compared,
 * whatever differs first (the same guarantee as timingSafeEqual, without two Buffer copies).
 */
export function sameHash(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/** The last 8 characters, shown as `PartialKey`. */
export function partialKey(key: string): string {
  return key.slice(-8)
}

let seq = 0
const nodeTag = randomBytes(3).toString('hex')

/** Request ids: `req_` + time + node tag + sequence; unique per process and sortable by time. */
let prefixMs = -1
let prefix = ''
export function newRequestId(nowMs: number): string {
  seq = (seq + 1) % 0x1000000
  // Many calls share a millisecond: the time part is formatted once per millisecond.
  if (nowMs !== prefixMs) {
    prefixMs = nowMs
    prefix = `req_${nowMs.toString(36)}${nodeTag}`
  }
  return prefix + base36x5(seq)
}

const DIGITS36 = '0123456789abcdefghijklmnopqrstuvwxyz'

/** `n` (below 36^5) as five base-36 digits: toString(36) + padStart without their slow paths. */
export function base36x5(n: number): string {
  const d = DIGITS36
  const a = n % 36
  n = (n - a) / 36
  const b = n % 36
  n = (n - b) / 36
  const c = n % 36
  n = (n - c) / 36
  const e = n % 36
  return d[(n - e) / 36]! + d[e]! + d[c]! + d[b]! + d[a]!
}

/** The root account: the operator, the bank of every balance, never limited or charged. */
export const ROOT_ID = 1
