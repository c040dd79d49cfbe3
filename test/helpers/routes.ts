// The route table of the running app, read from Elysia's own list, and the small rule table that
// says who may call each route (SPEC §2.1, §3). A route no rule claims is returned by name.
import type { TSchema } from '@sinclair/typebox'
import { consoleFiles } from '../../src/console/bundle'

/** A real asset of the console bundle (hashed name), for the route that serves them. */
const CONSOLE_ASSET = [...(await consoleFiles()).assets.keys()][0] ?? 'none'

/**
 * public: no key needed. root: root only (403 for other valid callers). caller: any valid
 * caller, on itself. target: an account named in the path, which must be the caller or in its
 * subtree (404 otherwise). proxy: the proxied surfaces (any valid key; refusals are the proxy's).
 */
export type Access = 'public' | 'root' | 'caller' | 'target' | 'proxy'

/** Where a target account sits relative to the caller. */
export type Relation = 'self' | 'child' | 'deeper' | 'outside'

export type RouteRule = {
  method: string
  path: string | RegExp
  access: Access
  /** SPEC §3: the subaccount endpoints want USER_API_MIN_BALANCE from a non-root caller. */
  subaccount?: boolean
  /** target routes: the path parameter that holds the account identifier. */
  targetParam?: string
  /** target routes: the status a valid caller gets per relation (default 200 in, 404 out). */
  statusByRelation?: Partial<Record<Relation, number>>
  /** Path parameters that are not an account (a key ID, a control method). */
  params?: Record<string, string>
  /** A body that a caller allowed to use the route sends successfully; `uniq` gives fresh text. */
  body?: (uniq: () => string, today: string) => unknown
  /** Why, in SPEC's words. */
  why: string
}

/** One route of the app with its rule and the schemas Elysia validates it with. */
export type Route = {
  method: string
  path: string
  rule: RouteRule
  query?: TSchema
  bodySchema?: TSchema
  /** Path parameter names, in order (`/x-api/:service/:method` → service, method). */
  params: string[]
}

const ADMIN_BODY = (u: () => string) => {
  const name = u()
  return { Name: name, Email: `${name}@example.com`, CreditGranted: 5 }
}

/** First match wins; families (`/dashboard/…`, `/v1/…`) cover routes added later. */
export const RULES: RouteRule[] = [
  { method: 'GET', path: /^\/swagger/, access: 'public', why: '§3 docs, served to anyone' },
  { method: 'GET', path: '/healthz', access: 'public', why: 'liveness for load balancers' },
  {
    method: 'GET',
    path: /^\/console/,
    access: 'public',
    params: { name: CONSOLE_ASSET },
    why: 'the web console page and its assets; every read it makes is an API call with the key',
  },
  {
    method: 'GET',
    path: '/metrics',
    access: 'root',
    why: '§9 root key as bearer (or loopback; app.handle carries no client address)',
  },
  {
    method: 'POST',
    path: '/x-api/:service/:method',
    access: 'root',
    params: { service: 'StatsService', method: 'QueryStats' },
    body: () => ({ pattern: '' }),
    why: '§9 the control API mirror is root only',
  },
  { method: 'GET', path: '/x-gkey', access: 'root', why: '§3 GET /x-gkey: root' },
  {
    method: 'POST',
    path: '/x-keys',
    access: 'root',
    body: (u) => ({ SecretKey: `sk-upstream-${u()}`, Provider: 'https://api.openai.com' }),
    why: '§2.1 only root manages upstream keys',
  },
  {
    method: '*',
    path: /^\/x-keys\/:id$/,
    access: 'root',
    params: { id: '1' },
    body: () => ({ Weight: 2 }),
    why: '§2.1 only root manages upstream keys',
  },
  { method: 'GET', path: '/x-keys', access: 'root', why: '§2.1 only root manages upstream keys' },
  { method: 'GET', path: '/x-config', access: 'root', why: '§2.1 global config: root' },
  {
    method: 'POST',
    path: '/x-config',
    access: 'root',
    body: () => ({ SWITCH_OVER: '1=2' }),
    why: '§2.1 global config: root',
  },
  {
    method: 'DELETE',
    path: '/x-config',
    access: 'root',
    body: () => ({ keys: ['SWITCH_OVER'] }),
    why: '§2.1 global config: root',
  },
  {
    method: 'POST',
    path: '/x-news',
    access: 'root',
    body: (u) => ({ title: `t ${u()}`, content: 'c' }),
    why: '§2.1 system news: root',
  },
  { method: 'DELETE', path: '/x-news', access: 'root', why: '§2.1 system news: root' },
  {
    method: 'POST',
    path: '/x-root',
    access: 'root',
    body: (_u, today) => ({ confirm: `${today}-ROTATE-ROOT` }),
    why: "§3 POST /x-root: root rotates root's or a named account's key",
  },
  {
    method: 'POST',
    path: '/x-news/:target',
    access: 'target',
    targetParam: 'target',
    body: (u) => ({ title: `t ${u()}`, content: 'c' }),
    why: '§3 news to targets in the caller subtree',
  },
  {
    method: 'DELETE',
    path: '/x-news/:target',
    access: 'target',
    targetParam: 'target',
    why: '§3 news to targets in the caller subtree',
  },
  {
    method: 'POST',
    path: '/x-users',
    access: 'caller',
    subaccount: true,
    body: ADMIN_BODY,
    why: '§3 any account with enough balance creates a direct child',
  },
  {
    method: 'GET',
    path: /^\/x-(users|dna)$/,
    access: 'caller',
    subaccount: true,
    why: '§3 lists of the caller subtree',
  },
  {
    method: 'GET',
    path: '/x-users/:id',
    access: 'target',
    subaccount: true,
    targetParam: 'id',
    statusByRelation: { deeper: 404 },
    why: '§3 GET /x-users/{id}: the caller or a direct child',
  },
  {
    method: 'GET',
    path: '/x-dna/:id',
    access: 'target',
    subaccount: true,
    targetParam: 'id',
    why: '§3 GET /x-dna/{id}: the caller or any descendant',
  },
  {
    method: /^(PUT|POST)$/.source,
    path: '/x-users/:id',
    access: 'target',
    subaccount: true,
    targetParam: 'id',
    body: (u) => ({ Alias: `alias-${u()}` }),
    why: '§3 update a descendant; on itself Alias and BillingEmail only',
  },
  {
    method: 'DELETE',
    path: '/x-users/:id',
    access: 'target',
    subaccount: true,
    targetParam: 'id',
    statusByRelation: { self: 403 },
    why: '§3 DELETE: an ancestor of the target (never itself)',
  },
  {
    method: 'POST',
    path: '/x-self',
    access: 'caller',
    body: (_u, today) => ({ confirm: `${today}-ROTATE-SELF` }),
    why: '§3 POST /x-self: any account rotates its own key',
  },
  { method: 'GET', path: '/x-bill', access: 'caller', why: "§6 usage of the caller's subtree" },
  { method: 'GET', path: /^\/dashboard\//, access: 'caller', why: '§7 the caller itself' },
  {
    method: 'GET',
    path: '/v1/models/:id',
    access: 'proxy',
    params: { id: 'gpt-4o-mini' },
    why: '§4 GET /v1/models/{id}: one model the key may use',
  },
  { method: '*', path: /^\/v1\//, access: 'proxy', why: '§4 the proxied surfaces' },
]

const methodMatches = (rule: string, method: string) =>
  rule === '*' || rule === method || new RegExp(`^(?:${rule})$`).test(method)

const pathMatches = (rule: string | RegExp, path: string) =>
  typeof rule === 'string' ? rule === path : rule.test(path)

export function ruleFor(method: string, path: string): RouteRule | undefined {
  return RULES.find((r) => methodMatches(r.method, method) && pathMatches(r.path, path))
}

type ElysiaRoute = {
  method: string
  path: string
  hooks?: { query?: TSchema; body?: TSchema; detail?: { hide?: boolean } }
}

/** Every route the app answers, classified; unclassified ones as `METHOD path` strings. */
export function routeTable(app: { routes: readonly unknown[] }): {
  routes: Route[]
  unclassified: string[]
} {
  const routes: Route[] = []
  const unclassified: string[] = []
  for (const r of app.routes as ElysiaRoute[]) {
    const rule = ruleFor(r.method, r.path)
    if (!rule) {
      unclassified.push(`${r.method} ${r.path}`)
      continue
    }
    routes.push({
      method: r.method,
      path: r.path,
      rule,
      query: r.hooks?.query,
      bodySchema: r.hooks?.body,
      params: [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!),
    })
  }
  return { routes, unclassified }
}

/** `/x-users/:id` with `{id: 'a b'}` → `/x-users/a%20b`. */
export function fillPath(path: string, params: Record<string, string>): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => {
    const v = params[name]
    if (v === undefined) throw new Error(`${path}: no value for :${name}`)
    return encodeURIComponent(v)
  })
}

/** The admin routes: everything but the proxied surfaces. */
export const isAdmin = (r: Route) => r.rule.access !== 'proxy'
