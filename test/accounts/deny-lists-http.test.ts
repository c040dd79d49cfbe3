// List fields through the admin API: the seed's "-gpt-3.5-turbo" after "*", answers as the text
// a client writes (never null) on every read, and the round trip: read an account, write its
// list fields back unchanged, read again — nothing changed.
import { describe, expect, test } from 'bun:test'
import { useGateway } from './helpers'

const h = useGateway()
const LISTS = ['AllowIPs', 'AllowModels', 'AllowLevels', 'Resources'] as const

/** GET /x-users/{id} as root (one object for a direct child). */
async function read(id: number) {
  const r = await h.req('GET', `/x-users/${id}`, h.gw.rootKey)
  expect(r.status, r.text).toBe(200)
  return Array.isArray(r.body) ? r.body[0] : r.body
}

async function put(id: number, body: Record<string, unknown>) {
  return h.req('PUT', `/x-users/${id}`, h.gw.rootKey, body)
}

describe('list fields as clients write them', () => {
  test('the seed: "*" then "-gpt-3.5-turbo" answers "* -gpt-3.5-turbo"', async () => {
    const kid = await h.child(h.gw.rootKey)
    expect((await put(kid.id, { AllowModels: '*' })).status).toBe(200)
    const r = await put(kid.id, { AllowModels: '-gpt-3.5-turbo' })
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Updates.AllowModels, r.text).toBe('* -gpt-3.5-turbo')
    expect((await read(kid.id)).AllowModels).toBe('* -gpt-3.5-turbo')
    const back = await put(kid.id, { AllowModels: '+gpt-3.5-turbo' })
    expect(back.body.User.Updates.AllowModels, back.text).toBe('*')
  })

  test('never null: a new account answers "*" on every read', async () => {
    const kid = await h.child(h.gw.rootKey)
    const created = kid.reply.body.User.Updates
    const reads = [
      created,
      await read(kid.id),
      await h.get(kid.id),
      (await h.req('GET', '/x-users', h.gw.rootKey)).body.find((u: any) => u.ID === kid.id),
      (await h.req('GET', '/dashboard/x-user-info', kid.key)).body,
    ]
    for (const [i, u] of reads.entries()) {
      for (const f of LISTS) expect(u?.[f], `read ${i} ${f}: ${JSON.stringify(u)}`).toBe('*')
    }
    expect((await put(kid.id, { AllowIPs: '-*' })).body.User.Updates.AllowIPs).toBe('-*')
  })

  test('a bad "+x" inside a wider deny is a 400 naming the field and the deny', async () => {
    const kid = await h.child(h.gw.rootKey, { AllowModels: '-gpt-3.5*' })
    const r = await put(kid.id, { AllowModels: '+gpt-3.5-turbo' })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.param, r.text).toBe('AllowModels')
    expect(r.body.error.message, r.text).toContain("'-gpt-3.5*'")
  })

  test('round trip: lists read and written back unchanged change nothing', async () => {
    const shapes: Array<Record<string, string>> = [
      {},
      { AllowModels: 'gpt-4* claude-3*', AllowIPs: '-*', AllowLevels: '1 2', Resources: '/v1/*' },
      {
        AllowModels: '-gpt-3.5-turbo',
        AllowIPs: '-10.0.0.0/8 -2001:db8::/32',
        AllowLevels: '-3',
        Resources: '-/v1/images/*',
      },
      {
        AllowModels: 'gpt-* -gpt-3.5-turbo',
        AllowIPs: '10.0.0.0/8 -10.1.0.0/16',
        AllowLevels: '0 10',
        Resources: '/v1/* -/v1/embeddings',
      },
    ]
    for (const shape of shapes) {
      const kid = await h.child(h.gw.rootKey, shape)
      const first = await read(kid.id)
      const lists = Object.fromEntries(LISTS.map((f) => [f, first[f]]))
      for (const f of LISTS)
        expect(typeof first[f], `${f}: ${JSON.stringify(first)}`).toBe('string')
      const r = await put(kid.id, lists)
      expect(r.status, r.text).toBe(200)
      for (const f of LISTS) expect(r.body.User.Updates[f], `${f} in ${r.text}`).toBeUndefined()
      const again = await read(kid.id)
      const { UpdatedAt: _a, ...was } = first
      const { UpdatedAt: _b, ...now } = again
      expect(now, JSON.stringify(shape)).toEqual(was)
    }
  })
})
