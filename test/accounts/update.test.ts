// PUT /x-users/{id}: changed fields only in Updates, the list-field language, limits pushed down
// the subtree, the Rates floor and ceiling, renames, and one operation-log row per write.
import { describe, expect, test } from 'bun:test'
import { stateDigest, useGateway } from './helpers'

const h = useGateway()

const put = (key: string, ident: string | number, body: unknown) =>
  h.req('PUT', `/x-users/${ident}`, key, body)

describe('fields', () => {
  test('Updates holds the changed fields with Balance and CreditBalance', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const r = await put(h.gw.rootKey, kid.id, { Alias: 'Nick', Gear: 0, Tier: 5, HardLimit: 77.5 })
    expect(r.status, r.text).toBe(200)
    expect(r.body.Action).toBe('update')
    expect(r.body.User, r.text).toMatchObject({ ID: kid.id, Name: kid.name })
    const { CreditBalance, ...rest } = r.body.User.Updates
    // HardLimit 77.5 is below the SoftLimit of 80: SoftLimit follows to 80 % of it.
    expect(rest, r.text).toEqual({
      Alias: 'Nick',
      Tier: 5,
      HardLimit: 77.5,
      SoftLimit: 62,
      Balance: 10,
    })
    expect(CreditBalance.length).toBe(1)
  })

  test('renames keep the key working and free the old Name; a taken Name is a 409', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 25 })
    const other = await h.child(h.gw.rootKey, { CreditGranted: 5 })
    const newName = h.uniq('renamed')
    const r = await put(h.gw.rootKey, kid.name, { Name: newName, Email: `${newName}@example.org` })
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Updates, r.text).toMatchObject({
      Name: newName,
      Email: `${newName}@example.org`,
    })
    expect((await h.req('GET', '/x-dna', kid.key)).status).toBe(200)
    expect((await h.req('GET', `/x-dna/${kid.name}`, h.gw.rootKey)).status).toBe(404)
    const clash = await put(h.gw.rootKey, kid.id, { Name: other.name })
    expect(clash.status, clash.text).toBe(409)
  })

  test('ModelLimits, mappers and RPM…TPD are stored and returned; null clears', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const body = {
      RPM: 1,
      RPH: 2,
      RPD: 3,
      TPM: 4,
      TPH: 5,
      TPD: 6,
      ModelLimits: { 'gpt-4o*': { rpm: 3, tpm: 9000 } },
      ModelMapper: 'gpt-4=gpt-4o, claude-3*=claude-3-5-sonnet',
      LevelMapper: { 'o1*': 2 },
    }
    const r = await put(h.gw.rootKey, kid.id, body)
    expect(r.status, r.text).toBe(200)
    const u = await h.get(kid.id)
    expect(u, JSON.stringify(u)).toMatchObject({
      RPM: 1,
      RPH: 2,
      RPD: 3,
      TPM: 4,
      TPH: 5,
      TPD: 6,
      ModelLimits: { 'gpt-4o*': { rpm: 3, tpm: 9000 } },
      ModelMapper: { 'gpt-4': 'gpt-4o', 'claude-3*': 'claude-3-5-sonnet' },
      LevelMapper: { 'o1*': 2 },
    })
    const cleared = await put(h.gw.rootKey, kid.id, { ModelLimits: null, ModelMapper: null })
    expect(cleared.body.User.Updates, cleared.text).toMatchObject({
      ModelLimits: null,
      ModelMapper: null,
    })
  })
})

describe('list fields', () => {
  test('add, remove, * and -* edit AllowIPs with v4 and v6 CIDRs', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const steps: Array<[string, string]> = [
      ['10.0.0.0/8 192.168.1.7', '10.0.0.0/8 192.168.1.7'],
      ['2001:DB8::/32,::1', '10.0.0.0/8 192.168.1.7 2001:db8::/32 ::1'],
      ['-192.168.1.7 ::1', '10.0.0.0/8 2001:db8::/32'],
      ['-*', '-*'],
      ['*', '*'],
    ]
    for (const [edit, expected] of steps) {
      const r = await put(h.gw.rootKey, kid.id, { AllowIPs: edit })
      expect(r.status, `${edit}: ${r.text}`).toBe(200)
      expect((await h.get(kid.id)).AllowIPs, edit).toEqual(expected)
    }
  })

  test('AllowModels with wildcards, AllowLevels, Resources; a bad entry is a 400 naming it', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const r = await put(h.gw.rootKey, kid.id, {
      AllowModels: 'gpt-4o* claude-*',
      AllowLevels: '1 2',
      Resources: '/v1/chat/completions /v1/*',
    })
    expect(r.status, r.text).toBe(200)
    expect(await h.get(kid.id)).toMatchObject({
      AllowModels: 'gpt-4o* claude-*',
      AllowLevels: '1 2',
      Resources: '/v1/chat/completions /v1/*',
    })
    const asArray = await put(h.gw.rootKey, kid.id, { AllowLevels: [3, '4'] })
    expect(asArray.status, asArray.text).toBe(200)
    expect((await h.get(kid.id)).AllowLevels).toBe('1 2 3 4')
    const before = await stateDigest(h.gw)
    const bad = await put(h.gw.rootKey, kid.id, { Alias: 'never', AllowModels: 'gpt-4o bad$model' })
    expect(bad.status, bad.text).toBe(400)
    expect(bad.body.error.message, bad.text).toContain('bad$model')
    expect(await stateDigest(h.gw), 'a bad entry changes nothing, not even the other fields').toBe(before)
  })

  test("a child's effective lists are narrowed by its ancestors' (AccountView)", async () => {
    const parent = await h.child(h.gw.rootKey, {
      CreditGranted: 100,
      AllowModels: 'gpt-4o*',
      AllowIPs: '10.0.0.0/8',
    })
    const kid = await h.child(parent.key, {
      CreditGranted: 10,
      AllowModels: 'gpt-4o-mini claude-3-haiku',
    })
    // view() reads memory only: creating kid changed parent's cards, which dropped it from the cache.
    await h.gw.deps.accounts.tree.warm(kid.id)
    const v = h.gw.deps.accounts.tree.view(kid.id)!
    expect(v.allows.model('gpt-4o-mini')).toBe(true)
    expect(
      v.allows.model('claude-3-haiku'),
      'the parent cannot reach it, so neither can the child',
    ).toBe(false)
    expect(v.allows.ip('10.1.2.3')).toBe(true)
    expect(v.allows.ip('192.168.0.1')).toBe(false)
    expect(v.ancestors.map((a) => a.id)).toEqual([1, parent.id])
  })
})

describe('parent rules', () => {
  test("a child's limits may not exceed its parent's; lowering a parent's pushes them down", async () => {
    const top = await h.child(h.gw.rootKey, { CreditGranted: 500, RPM: 100, TPD: 50000 })
    const mid = await h.child(top.key, { CreditGranted: 100, RPM: 80 })
    const low = await h.child(mid.key, { CreditGranted: 30, RPM: 60, TPD: 0 })
    const over = await put(top.key, mid.id, { RPM: 101 })
    expect(over.status, over.text).toBe(400)
    expect(over.body.error.message, over.text).toStartWith('RPM')
    const lower = await put(top.key, mid.id, { RPM: 40, TPD: 20000 })
    expect(lower.status, lower.text).toBe(200)
    const l = await h.get(low.id)
    expect([l.RPM, l.TPD], JSON.stringify(l)).toEqual([40, 0])
  })

  test('Rates may not go below the parent nor above a child', async () => {
    const top = await h.child(h.gw.rootKey, { CreditGranted: 500, Rates: 1.2 })
    const mid = await h.child(top.key, { CreditGranted: 100, Rates: 1.5 })
    await h.child(mid.key, { CreditGranted: 30, Rates: 2 })
    const below = await put(top.key, mid.id, { Rates: 1.1 })
    expect(below.status, below.text).toBe(400)
    expect(below.body.error.message, below.text).toStartWith('Rates')
    const above = await put(top.key, mid.id, { Rates: 2.5 })
    expect(above.status, above.text).toBe(400)
    expect(above.body.error.message, above.text).toContain('child')
    const ok = await put(top.key, mid.id, { Rates: 2 })
    expect(ok.status, ok.text).toBe(200)
  })

  test('Days without a positive CreditGranted is a 400', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const r = await put(h.gw.rootKey, kid.id, { Days: 30 })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.message).toContain('Days')
  })

  test('an empty body is a 400', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 10 })
    const r = await put(h.gw.rootKey, kid.id, {})
    expect(r.status, r.text).toBe(400)
  })
})

describe('operation log', () => {
  test('each write leaves its row: add_user, update_user, recharge, deduct, delete_user', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const kid = await h.child(parent.key, { CreditGranted: 20 })
    expect((await put(parent.key, kid.id, { Alias: 'k', CreditGranted: 5 })).status).toBe(200)
    expect((await put(parent.key, kid.id, { CreditGranted: -3 })).status).toBe(200)
    expect((await h.req('DELETE', `/x-users/${kid.id}`, parent.key)).status).toBe(200)
    const rows = (await h.gw.deps.sql.all('SELECT action, operator_id, target_id, details FROM op_logs WHERE target_id = ? ORDER BY id', [kid.id])) as Array<{
      action: string
      operator_id: number
      target_id: number
      details: string
    }>
    expect(rows.map((r) => r.action)).toEqual([
      'add_user',
      'update_user',
      'recharge',
      'deduct',
      'delete_user',
    ])
    expect(rows.every((r) => r.operator_id === parent.id)).toBe(true)
    const details = rows.map((r) => JSON.parse(r.details))
    expect(details[1].changes).toEqual({ Alias: 'k' })
    expect(details[2]).toMatchObject({ amount: 5, cost: 5, days: 365 })
    expect(details[3]).toMatchObject({ requested: 3, taken: 3, refund: 2.8 })
    expect(details[4]).toMatchObject({ name: kid.name, balance: 22, refund: 21.8, descendants: 0 })
  })
})
