// The tags of xgate's document as users look for them: what each holds, in the order a reader
// meets them, and the routes regrouped where their file's tag is not what a user would look under.
import type { Obj } from './schema'

/** Tags in the order a reader meets them, with what each holds; routes are regrouped below. */
export const TAGS: Array<{ name: string; description: string }> = [
  {
    name: 'Proxy: OpenAI',
    description: 'OpenAI-compatible calls, passed to the provider with your xgate key',
  },
  {
    name: 'Proxy: Anthropic',
    description: 'Anthropic-compatible calls, passed to the provider with your xgate key',
  },
  {
    name: 'Accounts',
    description: 'Subaccounts: create, read, update, delete, and the descendant tree',
  },
  {
    name: 'Account keys',
    description:
      'Your sk-Xvs… keys: generate a fresh one, rotate your own, rotate root or a named account',
  },
  { name: 'Upstream keys', description: "The provider keys in xgate's pool (root only)" },
  { name: 'Reports', description: 'Usage and billing' },
  { name: 'Dashboard', description: "The caller's own status, usage, logs and news" },
  { name: 'News', description: 'System and targeted announcements' },
  { name: 'Config', description: 'Global settings' },
  { name: 'Control', description: 'The Xray-style control API over HTTP, and Prometheus metrics' },
  { name: 'System', description: 'Liveness' },
]

/** The tag of a path when it belongs elsewhere than its route file says. */
export function tagOf(path: string): string | undefined {
  if (/^\/x-(self|root|gkey)(\/|$)/.test(path)) return 'Account keys'
  if (/^\/x-keys(\/|$)/.test(path)) return 'Upstream keys'
  return undefined
}

/** The tags the operations use: the known ones in their order, then any other a route names. */
export function tagsFor(paths: Obj): Array<{ name: string; description: string }> {
  const used = new Set<string>()
  for (const item of Object.values(paths) as Obj[])
    for (const op of Object.values(item) as Obj[]) for (const t of op.tags ?? []) used.add(t)
  const known = new Set(TAGS.map((t) => t.name))
  return [
    ...TAGS.filter((t) => used.has(t.name)),
    ...[...used].filter((t) => !known.has(t)).map((name) => ({ name, description: name })),
  ]
}
