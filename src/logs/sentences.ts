// The operation log in words: one readable sentence per recorded action, built from the row's
// structured details ("Created user with email: prod@company.com"). Rows written by older
// versions may lack a field: every reader below falls back rather than failing.

type Details = Record<string, unknown>

const str = (v: unknown, fallback = '?') =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : fallback
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
/** Dollars as a person writes them: `10 USD`, `0.2 USD` (never 0.30000000000000004). */
const usd = (v: unknown) => `${Number(num(v).toFixed(9))} USD`
const list = (v: unknown) => (Array.isArray(v) ? v.map((x) => str(x)).join(', ') : str(v))
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`
const quoted = (v: unknown) => `"${str(v, '')}"`

/** `Field to value` for short plain values; just the field's name for objects and long text. */
function change(field: string, v: unknown): string {
  if (v === null) return `${field} cleared`
  if (typeof v === 'number' || typeof v === 'boolean') return `${field} to ${v}`
  if (typeof v === 'string' && v.length <= 40) return `${field} to "${v}"`
  return field
}

function updated(d: Details): string {
  const changes = d.changes && typeof d.changes === 'object' ? (d.changes as Details) : {}
  const parts = Object.entries(changes).map(([k, v]) => change(k, v))
  const what = parts.length ? parts.join(', ') : 'no field'
  const pushed = num(d.clamped)
    ? `; the same limits lowered on ${plural(num(d.clamped), 'descendant')}`
    : ''
  return `Updated user ${str(d.name)}: ${what}${pushed}`
}

function deleted(d: Details): string {
  const below = num(d.descendants) ? ` and ${plural(num(d.descendants), 'descendant')}` : ''
  const held = num(d.held) ? `; ${usd(d.held)} held by calls in flight` : ''
  return `Deleted user ${str(d.name)}${below}; refunded ${usd(d.refund)} to the parent${held}`
}

function key(verb: string, d: Details): string {
  const about = [
    d.Level !== undefined ? `level ${str(d.Level)}` : '',
    typeof d.Provider === 'string' ? d.Provider : '',
    d.Status === false ? 'disabled' : '',
  ].filter(Boolean)
  return `${verb} upstream key ${str(d.Name, `#${str(d.KeyID)}`)}${about.length ? ` (${about.join(', ')})` : ''}`
}

function news(d: Details, deleting: boolean): string {
  const forWhom = d.target === null || d.target === undefined ? 'system' : `for ${str(d.target)}`
  if (!deleting) {
    const scope = forWhom === 'system' ? 'system news' : `news ${forWhom}`
    return `Posted ${scope}: ${quoted(d.title)} for ${plural(num(d.days), 'day')}`
  }
  const which = d.id === null || d.id === undefined ? '' : ` (item ${str(d.id)})`
  const scope = forWhom === 'system' ? 'system news' : `news ${forWhom}`
  return `Deleted ${plural(num(d.deleted), 'item')} of ${scope}${which}`
}

const SENTENCES: Record<string, (d: Details) => string> = {
  add_user: (d) => {
    const f = d.fields && typeof d.fields === 'object' ? (d.fields as Details) : {}
    return `Created user with email: ${str(f.Email ?? d.email)}`
  },
  update_user: updated,
  // Root mints the money it grants: no cost to name then.
  recharge: (d) =>
    `Recharged user ${str(d.name)} with ${usd(d.amount)} valid ${plural(num(d.days), 'day')}` +
    (num(d.cost) ? ` (cost ${usd(d.cost)})` : ''),
  deduct: (d) =>
    `Deducted ${usd(d.taken ?? d.requested)} from user ${str(d.name)} (refund ${usd(d.refund)})`,
  delete_user: deleted,
  rotate_self: (d) =>
    `Rotated own key of ${str(d.name)}; the new key ends in ${str(d.partial_key)}`,
  rotate_root: (d) =>
    `Rotated the key of ${str(d.name)}${d.given ? ' to a given key' : ''}; ` +
    `the new key ends in ${str(d.partial_key)}`,
  add_key: (d) => key('Added', d),
  update_key: (d) => key('Updated', d),
  delete_key: (d) => key('Deleted', d),
  set_config: (d) => `Set config ${list(d.keys)}`,
  delete_config: (d) => `Reset config ${list(d.keys)} to the default`,
  add_news: (d) => news(d, false),
  delete_news: (d) => news(d, true),
}

/** The sentence of one log row; an action without its own wording still reads as words. */
export function sentenceOf(action: string, details: Details): string {
  const say = SENTENCES[action]
  if (say) return say(details)
  const words = action.replaceAll('_', ' ')
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** The actions with their own sentence (each recorded action of §7.3). */
export const WORDED_ACTIONS = Object.keys(SENTENCES)
