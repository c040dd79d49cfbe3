// `*` patterns of model names and API paths: matching (one-off and compiled), and the two set
// questions the list algebra asks of a pair of patterns: does one cover the other, do they meet.

/** RegExp source of a `*` pattern: `*` matches any run (also empty, also `/`); all else literal. */
export function wildcardSource(pattern: string): string {
  return pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
}

/** A RegExp for a `*` pattern, anchored at both ends. */
export function compileWildcard(pattern: string): RegExp {
  return new RegExp(`^${wildcardSource(pattern)}$`, 's')
}

/** One-off `*` match without building a RegExp: prefix, suffix, then the middles in order. */
export function wildcardMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('*')
  if (parts.length === 1) return pattern === name
  const first = parts[0]
  const last = parts[parts.length - 1]
  if (name.length < first.length + last.length) return false
  if (!name.startsWith(first) || !name.endsWith(last)) return false
  let at = first.length
  const end = name.length - last.length
  for (const middle of parts.slice(1, -1)) {
    const found = name.indexOf(middle, at)
    if (found < 0 || found + middle.length > end) return false
    at = found + middle.length
  }
  return true
}

/**
 * Is some name matched by both patterns? Exact when either is literal. For two patterns with a
 * `*` each it is exact too: they meet iff their literal heads agree (one a prefix of the other)
 * and their tails agree (one a suffix of the other) — head + every middle + tail is then a
 * common name, since each `*` may take the other pattern's pieces.
 */
export function patternsMeet(a: string, b: string): boolean {
  const aw = a.includes('*')
  const bw = b.includes('*')
  if (!aw) return bw ? wildcardMatch(b, a) : a === b
  if (!bw) return wildcardMatch(a, b)
  const ap = a.split('*')
  const bp = b.split('*')
  const [ah, bh] = [ap[0], bp[0]]
  const [at, bt] = [ap[ap.length - 1], bp[bp.length - 1]]
  const heads = ah.startsWith(bh) || bh.startsWith(ah)
  const tails = at.endsWith(bt) || bt.endsWith(at)
  return heads && tails
}

/**
 * Does `outer` match every name `inner` matches? Exact for a literal `inner`, and for `outer`
 * of `*` or a single `*` (`head*tail`); otherwise only the same text counts. The list algebra
 * uses it to drop entries a later one makes redundant, so a "no" only leaves one entry more.
 */
export function patternCovers(outer: string, inner: string): boolean {
  if (outer === inner || outer === '*') return true
  if (!inner.includes('*')) return wildcardMatch(outer, inner)
  const op = outer.split('*')
  if (op.length !== 2) return false
  const ip = inner.split('*')
  const [oh, ot] = op as [string, string]
  return ip[0].startsWith(oh) && ip[ip.length - 1].endsWith(ot)
}
