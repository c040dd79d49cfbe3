// The client address of a request: the socket peer, or the X-Forwarded-For hop a trusted reverse
// proxy vouches for (TRUST_PROXY). An untrusted peer's X-Forwarded-For is never read.
import { isIP } from 'node:net'
import { compileIpList, parseIpEntry } from '../accounts/ips'
import { ConfigError } from '../config'

/** Whether an address belongs to a trusted proxy. */
export type TrustedMatcher = (ip: string) => boolean

/** Longest X-Forwarded-For walked; hops beyond it are not looked at (a header stuffed by a client). */
const MAX_HOPS = 32

/**
 * TRUST_PROXY (addresses or CIDRs, v4 and v6, space- or comma-separated) as a matcher; unset
 * trusts nobody. A bad entry stops start-up with one line naming the setting.
 */
export function trustedProxies(raw: string | undefined): TrustedMatcher {
  const entries = (raw ?? '').split(/[\s,]+/).filter(Boolean)
  if (entries.length === 0) return () => false
  for (const e of entries) {
    const r = parseIpEntry(e)
    if (!r.ok) throw new ConfigError(`invalid setting TRUST_PROXY: '${e}' ${r.why}`)
  }
  return compileIpList(entries)
}

/** One X-Forwarded-For element without a port or brackets (`[2001:db8::1]:443`, `1.2.3.4:80`). */
function hostOf(hop: string): string {
  const h = hop.trim()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end > 0 ? h.slice(1, end) : h
  }
  const colon = h.indexOf(':')
  // One colon: IPv4 with a port. More: a bare IPv6 address.
  if (colon > 0 && h.indexOf(':', colon + 1) < 0) return h.slice(0, colon)
  return h
}

/**
 * The address a call comes from. Only when the socket peer is trusted is X-Forwarded-For read,
 * from the right: trusted hops are skipped and the first untrusted one is the client. A hop that
 * is not an address ends the walk at the nearest trusted hop, so a forged entry is never used.
 * When every hop is trusted, the leftmost is the client.
 */
export function clientIp(socketIp: string, xff: string | null, trusted: TrustedMatcher): string {
  if (!xff || !trusted(socketIp)) return socketIp
  const hops = xff.split(',')
  let client = socketIp
  for (let i = hops.length - 1, seen = 0; i >= 0 && seen < MAX_HOPS; i--, seen++) {
    const ip = hostOf(hops[i]!)
    if (ip === '') continue
    if (isIP(ip) === 0) return client
    client = ip
    if (!trusted(ip)) return ip
  }
  return client
}
