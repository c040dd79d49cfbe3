// AllowIPs entries: validation and canonical form of IPv4/IPv6 addresses and CIDRs, and the
// matcher compiled once per list (node:net BlockList, which Bun implements, mapped v6 included),
// and the range questions the list algebra asks (does one entry hold or meet another).
import { BlockList, isIP } from 'node:net'

export type IpEntry = { version: 4 | 6; address: string; prefix: number }

/**
 * Parse one entry (`1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32`, `::ffff:1.2.3.4`). Stored entries
 * are the canonical text (`canonicalIp`), so duplicates and removals compare as strings. A CIDR
 * with host bits set is refused rather than silently widened, naming the network meant.
 */
export function parseIpEntry(
  raw: string,
): { ok: true; entry: IpEntry } | { ok: false; why: string } {
  const slash = raw.indexOf('/')
  const address = slash < 0 ? raw : raw.slice(0, slash)
  if (address.includes('%')) return { ok: false, why: 'has a zone id (%…), which is not allowed' }
  const version = isIP(address)
  if (version !== 4 && version !== 6) return { ok: false, why: 'is not an IPv4 or IPv6 address' }
  const bits = version === 4 ? 32 : 128
  let prefix = bits
  if (slash >= 0) {
    const p = raw.slice(slash + 1)
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) {
      return { ok: false, why: `has a prefix that is not an integer from 0 to ${bits}` }
    }
    prefix = Number(p)
  }
  const value = version === 4 ? v4ToBig(address) : v6ToBig(address)
  const hostBits = (1n << BigInt(bits - prefix)) - 1n
  if ((value & hostBits) !== 0n) {
    const net = format(version, value & ~hostBits)
    return { ok: false, why: `has host bits set (the network is ${net}/${prefix})` }
  }
  return { ok: true, entry: { version, address: format(version, value), prefix } }
}

/** `address` alone for a single host, else `address/prefix`; v6 in RFC 5952 form. */
export function canonicalIp(e: IpEntry): string {
  return e.prefix === (e.version === 4 ? 32 : 128) ? e.address : `${e.address}/${e.prefix}`
}

/**
 * Matcher for a client address over a stored list (see lists.ts): `null` allows all, `[]` none,
 * `*` allows all, `-x` entries deny (a deny wins over an allow). IPv4 clients seen as IPv4-mapped
 * IPv6 (`::ffff:127.0.0.1`) match IPv4 entries and the reverse. A string that is not an address
 * (a forged X-Forwarded-For) never matches a restricted list. Entries must be canonical (stored
 * by applyListEdit); a bad one throws, so a corrupt row fails loudly at load.
 */
export function compileIpList(list: readonly string[] | null): (ip: string) => boolean {
  if (list === null) return () => true
  if (list.length === 0) return () => false
  const all = list.includes('*')
  const allow = all ? null : blockListOf(list.filter((e) => !e.startsWith('-')))
  const denied = list.filter((e) => e.startsWith('-')).map((e) => e.slice(1))
  const deny = denied.length > 0 ? blockListOf(denied) : null
  return (ip) => {
    const address = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip
    const v = isIP(address)
    if (v === 0) return false
    const type = v === 4 ? 'ipv4' : 'ipv6'
    if (allow !== null && !allow.check(address, type)) return false
    return deny === null || !deny.check(address, type)
  }
}

function blockListOf(entries: readonly string[]): BlockList {
  const blocks = new BlockList()
  for (const raw of entries) {
    const r = parseIpEntry(raw)
    if (!r.ok) throw new RangeError(`stored AllowIPs entry '${raw}' ${r.why}`)
    const type = r.entry.version === 4 ? 'ipv4' : 'ipv6'
    if (r.entry.prefix === (r.entry.version === 4 ? 32 : 128))
      blocks.addAddress(r.entry.address, type)
    else blocks.addSubnet(r.entry.address, r.entry.prefix, type)
  }
  return blocks
}

/** The addresses an entry holds, as a range of 128-bit values (IPv4 as IPv4-mapped IPv6). */
export function ipRange(canonical: string): { lo: bigint; hi: bigint } {
  const r = parseIpEntry(canonical)
  if (!r.ok) throw new RangeError(`AllowIPs entry '${canonical}' ${r.why}`)
  const { version, address, prefix } = r.entry
  const lo = version === 4 ? (0xffffn << 32n) | v4ToBig(address) : v6ToBig(address)
  const free = BigInt((version === 4 ? 32 : 128) - prefix)
  return { lo, hi: lo | ((1n << free) - 1n) }
}

// Conversions below only ever see strings that isIP has accepted.

function v4ToBig(s: string): bigint {
  return s.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n)
}

function v6ToBig(s: string): bigint {
  let text = s.toLowerCase()
  if (text.includes('.')) {
    const cut = text.lastIndexOf(':') + 1
    const v4 = Number(v4ToBig(text.slice(cut)))
    text = `${text.slice(0, cut)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t]
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)
}

function format(version: 4 | 6, value: bigint): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.')
  if (value >> 32n === 0xffffn) return `::ffff:${format(4, value & 0xffffffffn)}`
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((s) => Number((value >> s) & 0xffffn))
  // RFC 5952: the longest run of two or more zero groups (the first on a tie) becomes '::'.
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8; i++) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) [best, bestLen] = [i, j - i]
  }
  const hex = groups.map((g) => g.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}
