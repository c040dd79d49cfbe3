// Authorization matrix: every route of the running app × every kind of caller × every kind of
// target gets the status SPEC §2.1/§3/§8 implies, in the error shape; refusals change nothing.
import { afterAll, describe, expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { makeTestApp } from '../helpers/app'
import { tempDir } from '../helpers/gateway'
import { fillPath, routeTable, type Relation, type Route } from '../helpers/routes'
import { diffSnapshots, snapshot } from '../helpers/snapshot'

const DATA_DIR = tempDir('xgate-authz-')
afterAll(() => rmSync(DATA_DIR, { recursive: true, force: true }))

const ENV = {
  DATA_DIR,
  USER_API_MIN_BALANCE: '20',
  USER_MIN_BALANCE: '2',
  API_SERVICES: 'StatsService',
  INIT_KEYS: 'sk-upstream-authz-0001::https://api.openai.com',
}

let seq = 0
const uniq = () => `authz${process.pid}x${++seq}`
const today = () => new Date().toISOString().slice(0, 10)

type Acc = { id: number; name: string; email: string; dna: string; parentId: number; key: string }
type TestApp = Awaited<ReturnType<typeof makeTestApp>>
type Reply = { status: number; text: string; body: any }

/**
 * One tree, the same for every cell:
 *   root ─┬─ P (ancestor) ─┬─ C (self) ── K (child) ── G (grandchild)
 *         │                ├─ B (sibling)   ├─ W (poor: below USER_API_MIN_BALANCE)
 *         │                ├─ D (disabled) ── DK     ├─ R (key rotated: old key kept)
 *         │                └─ E (deleted)
 *         └─ Q ── X (stranger in another subtree)
 */
type World = { t: TestApp; acc: Record<string, Acc>; oldKey: string; deleted: Acc; shape: string }

/** What the cells rely on: accounts, their place, status and key, and the upstream keys. */
async function shapeOf(w: { t: TestApp }): Promise<string> {
  const q = async (sql: string) => JSON.stringify(await w.t.store.sql.all(sql))
  return (
    (await q('SELECT id, dna, status, key_hash FROM accounts ORDER BY id')) +
    (await q('SELECT id FROM upstream_keys ORDER BY id'))
  )
}

async function send(t: TestApp, method: string, path: string, key?: string, body?: unknown) {
  const res = await t.app.handle(t.request(method, path, { key, body }))
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.status, text, body: parsed as any }
}

async function must(t: TestApp, method: string, path: string, key: string, body?: unknown) {
  const r = await send(t, method, path, key, body)
  if (r.status !== 200) throw new Error(`world set-up ${method} ${path}: ${r.status} ${r.text}`)
  return r.body
}

/** Stands in for every provider: the matrix is about who gets in, never about the network. */
const offlineFetch = (async () =>
  new Response(JSON.stringify({ object: 'list', data: [] }), {
    headers: { 'content-type': 'application/json' },
  })) as unknown as typeof fetch

async function buildWorld(): Promise<World> {
  const t = await makeTestApp(ENV, { fetch: offlineFetch })
  const acc: Record<string, Acc> = {}
  const root = await must(t, 'GET', '/x-dna/1', t.rootKey)
  acc.root = {
    id: 1,
    name: root.Name,
    email: root.Email,
    dna: '.1.',
    parentId: 0,
    key: t.rootKey,
  }
  const add = async (label: string, parent: string, credit: number) => {
    const name = `${label.toLowerCase()}-${uniq()}`
    const email = `${name}@example.com`
    const r = await must(t, 'POST', '/x-users', acc[parent]!.key, {
      Name: name,
      Email: email,
      CreditGranted: credit,
    })
    acc[label] = {
      id: r.User.ID,
      name,
      email,
      dna: r.User.Updates.DNA,
      parentId: acc[parent]!.id,
      key: r.User.SecretKey,
    }
  }
  await add('P', 'root', 1000)
  await add('Q', 'root', 1000)
  await add('C', 'P', 300)
  await add('B', 'P', 100)
  await add('W', 'P', 10)
  await add('D', 'P', 100)
  await add('R', 'P', 100)
  await add('E', 'P', 100)
  await add('K', 'C', 100)
  await add('G', 'K', 30)
  await add('X', 'Q', 100)
  await add('DK', 'D', 30)
  // Each key is used once first, so the refusals below also prove the auth cache forgets.
  for (const k of ['D', 'DK', 'E', 'R'])
    await must(t, 'GET', '/dashboard/x-user-status', acc[k]!.key)
  await must(t, 'PUT', `/x-users/${acc.D!.id}`, t.rootKey, { Status: false })
  await must(t, 'DELETE', `/x-users/${acc.E!.id}`, acc.P!.key)
  const oldKey = acc.R!.key
  const rotated = await must(t, 'POST', '/x-self', oldKey, { confirm: `${today()}-ROTATE-SELF` })
  acc.R!.key = rotated.rotate.key
  const w = { t, acc, oldKey, deleted: acc.E! }
  return { ...w, shape: await shapeOf(w) }
}

type CallerKind =
  | 'root'
  | 'ancestor'
  | 'self'
  | 'child'
  | 'sibling'
  | 'stranger'
  | 'poor'
  | 'disabled'
  | 'under-disabled'
  | 'deleted'
  | 'old-key'
  | 'bad-key'
  | 'no-key'

/** Callers refused before any rule: the 401 code each must get. */
const REFUSED: Partial<Record<CallerKind, string>> = {
  disabled: 'account_disabled',
  'under-disabled': 'account_disabled',
  deleted: 'invalid_api_key',
  'old-key': 'invalid_api_key',
  'bad-key': 'invalid_api_key',
  'no-key': 'missing_api_key',
}

const CALLER_ACCOUNT: Partial<Record<CallerKind, string>> = {
  root: 'root',
  ancestor: 'P',
  self: 'C',
  child: 'K',
  sibling: 'B',
  stranger: 'X',
  poor: 'W',
  disabled: 'D',
  'under-disabled': 'DK',
}
const CALLERS = Object.keys({
  ...CALLER_ACCOUNT,
  deleted: 1,
  'old-key': 1,
  'bad-key': 1,
  'no-key': 1,
}) as CallerKind[]

type TargetKind =
  | 'self'
  | 'child'
  | 'grandchild'
  | 'parent'
  | 'sibling'
  | 'stranger'
  | 'root'
  | 'deleted'
  | 'nonexistent'
const TARGET_ACCOUNT: Record<Exclude<TargetKind, 'nonexistent'>, string> = {
  self: 'C',
  child: 'K',
  grandchild: 'G',
  parent: 'P',
  sibling: 'B',
  stranger: 'X',
  root: 'root',
  deleted: 'E',
}
const TARGETS = [...Object.keys(TARGET_ACCOUNT), 'nonexistent'] as TargetKind[]

const NOBODY: Acc = {
  id: 999_999,
  name: 'nobody-anywhere',
  email: 'nobody@example.com',
  dna: '.1.999999.',
  parentId: 1,
  key: '',
}

function keyOf(w: World, c: CallerKind): string | undefined {
  switch (c) {
    case 'deleted':
      return w.deleted.key
    case 'old-key':
      return w.oldKey
    case 'bad-key':
      return 'sk-Xvs' + 'A'.repeat(45)
    case 'no-key':
      return undefined
    default:
      return w.acc[CALLER_ACCOUNT[c]!]!.key
  }
}

function relation(caller: Acc, target: Acc | null, deleted: boolean): Relation {
  if (!target || deleted) return 'outside'
  if (target.id === caller.id) return 'self'
  if (!target.dna.startsWith(caller.dna)) return 'outside'
  return target.parentId === caller.id ? 'child' : 'deeper'
}

/** Identifiers of every kind, spread over the cells: ID, Name, Email, DNA. */
function identOf(a: Acc, n: number): string {
  return [String(a.id), a.name, a.email, a.dna][n % 4]!
}

type Expect = { status: number; code?: string }
/** A proxied call that got past authentication: 200 from the provider or 400 for the body. */
const PROXY_PASSED = -1
const statusOk = (want: number, got: number) =>
  want === PROXY_PASSED ? got === 200 || got === 400 : want === got

function expected(w: World, route: Route, c: CallerKind, target: TargetKind | null): Expect {
  const refused = REFUSED[c]
  const rule = route.rule
  if (rule.access === 'public') return { status: 200 }
  if (refused) return { status: 401, code: refused }
  const caller = w.acc[CALLER_ACCOUNT[c]!]!
  // Past authentication the offline provider answers 200, or the proxy refuses the empty body.
  if (rule.access === 'proxy') return { status: PROXY_PASSED }
  if (rule.access === 'root')
    return caller.id === 1 ? { status: 200 } : { status: 403, code: 'forbidden' }
  if (rule.subaccount && c === 'poor') return { status: 401, code: 'api_balance_too_low' }
  if (rule.access === 'caller') return { status: 200 }
  const t = target === 'nonexistent' ? null : w.acc[TARGET_ACCOUNT[target!]]!
  const rel = relation(caller, t, target === 'deleted')
  const status = rule.statusByRelation?.[rel] ?? (rel === 'outside' ? 404 : 200)
  const code = status === 404 ? 'not_found' : status === 403 ? 'forbidden' : undefined
  return { status, code }
}

function shapeProblem(r: Reply, route: Route, want: Expect): string | null {
  if (r.status < 400) return null
  const e = r.body?.error
  if (route.path.startsWith('/v1/messages')) {
    if (r.body?.type !== 'error' || typeof e?.type !== 'string' || typeof e?.message !== 'string')
      return 'not the Anthropic error shape'
    return null
  }
  if (typeof e?.message !== 'string' || typeof e?.type !== 'string' || typeof e?.code !== 'string')
    return 'not {error:{message,type,code}}'
  if (want.code && e.code !== want.code) return `code ${e.code}, want ${want.code}`
  return null
}

/** The request of one cell: path, body (when the route takes one). */
function requestOf(w: World, route: Route, target: TargetKind | null, n: number) {
  const params: Record<string, string> = { ...route.rule.params }
  if (route.rule.targetParam) {
    const t = target === 'nonexistent' ? NOBODY : w.acc[TARGET_ACCOUNT[target!]]!
    params[route.rule.targetParam] = identOf(t, n)
  }
  const path = fillPath(route.path, params)
  const hasBody =
    route.method !== 'GET' && (route.bodySchema !== undefined || route.rule.access === 'proxy')
  const body = !hasBody
    ? undefined
    : route.rule.access === 'proxy'
      ? {}
      : route.rule.body?.(uniq, today())
  return { path, body }
}

const probe = await makeTestApp(ENV)
const table = routeTable(probe.app)
await probe.close()

test('every route of the app is classified by the rule table', () => {
  expect(
    table.unclassified,
    `add a rule in test/helpers/routes.ts for: ${table.unclassified.join(', ')}`,
  ).toEqual([])
  expect(table.routes.length).toBeGreaterThan(40)
})

// The docs and the web console are pages for people, not API operations: they stay out of it.
test('every route but the docs themselves and the console is in the OpenAPI document', async () => {
  const t = await makeTestApp(ENV)
  const doc = (await (await t.app.handle(t.request('GET', '/swagger/json'))).json()) as {
    paths: Record<string, Record<string, unknown>>
  }
  await t.close()
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
    ),
  )
  const missing = table.routes
    .filter((r) => !r.path.startsWith('/swagger') && !r.path.startsWith('/console'))
    .map((r) => `${r.method} ${r.path}`)
    .filter((r) => !documented.has(r))
  expect(missing, `undocumented: ${missing.join(', ')}`).toEqual([])
})

let world: World | null = null
let cells = 0
afterAll(async () => {
  await world?.t.close()
  console.log(`authz matrix: ${table.routes.length} routes, ${cells} cells`)
})

describe('authorization matrix', () => {
  for (const route of table.routes) {
    const targets: Array<TargetKind | null> = route.rule.access === 'target' ? TARGETS : [null]
    test(`${route.method} ${route.path} (${route.rule.access})`, async () => {
      const problems: string[] = []
      let n = 0
      for (const c of CALLERS) {
        for (const target of targets) {
          world ??= await buildWorld()
          const w = world
          const { path, body } = requestOf(w, route, target, n++)
          await w.t.deps.flusher.flushNow()
          const before = await snapshot(w.t.deps.sql)
          const r = await send(w.t, route.method, path, keyOf(w, c), body)
          await w.t.deps.flusher.flushNow()
          const changes = diffSnapshots(before, await snapshot(w.t.deps.sql))
          const want = expected(w, route, c, target)
          cells++
          const sentBody = JSON.stringify(body) ?? ''
          const cell = `${c} → ${target ?? '-'}: ${route.method} ${path} ${sentBody}`
          if (!statusOk(want.status, r.status)) {
            problems.push(
              `${cell}: status ${r.status}, want ${want.status}: ${r.text.slice(0, 300)}`,
            )
          } else {
            const bad = shapeProblem(r, route, want)
            if (bad) problems.push(`${cell}: ${bad}: ${r.text.slice(0, 300)}`)
          }
          if ((r.status >= 400 || route.method === 'GET') && changes.length) {
            problems.push(`${cell}: answered ${r.status} but changed ${changes.join('; ')}`)
          }
          if (r.status < 400 && route.method !== 'GET' && await shapeOf(w) !== w.shape) {
            await w.t.close()
            world = null
          }
        }
      }
      expect(problems, problems.join('\n')).toEqual([])
    })
  }
})
