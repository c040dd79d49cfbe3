// POST /x-users: the answer's shape, defaults and inheritance, and a 400 (or 409) naming the
// field for every kind of bad input, with nothing changed.
import { describe, expect, test } from 'bun:test'
import { stateDigest, useGateway } from './helpers'

const h = useGateway({ USER_MIN_BALANCE: '2' })

describe('create', () => {
  test('answers {Action, Parent, User:{ID, Name, SecretKey, Updates}} and the key works', async () => {
    const name = h.uniq('Alpha')
    const r = await h.req('POST', '/x-users', h.gw.rootKey, {
      Name: name,
      Email: `${name}@Example.COM`,
      CreditGranted: 50,
    })
    expect(r.status, r.text).toBe(200)
    expect(r.body.Action).toBe('add')
    expect(r.body.Parent, r.text).toMatchObject({ ID: 1, Name: 'root' })
    const u = r.body.User
    expect(u.SecretKey, r.text).toMatch(/^sk-Xvs[A-Za-z0-9]{45}$/)
    expect(u.Updates, r.text).toMatchObject({
      ID: u.ID,
      Name: name,
      Email: `${name}@example.com`.toLowerCase(),
      Alias: name,
      Status: true,
      DNA: `.1.${u.ID}.`,
      Level: 1,
      Rates: 1,
      HardLimit: 500,
      SoftLimit: 400,
      CreditGranted: 50,
      Balance: 50,
      Child: 0,
      PartialKey: u.SecretKey.slice(-8),
    })
    expect(u.Updates.SecretKey, 'the key is shown once, outside Updates').toBeUndefined()
    const self = await h.req('GET', `/x-users/${u.ID}`, u.SecretKey)
    expect(self.status, self.text).toBe(200)
    expect(self.body.SecretKey, self.text).toBe('***')
  })

  test('unset fields inherit from the caller; set ones win; lists start unrestricted', async () => {
    const parent = await h.child(h.gw.rootKey, {
      CreditGranted: 100,
      Rates: 1.5,
      RPM: 60,
      TPD: 100000,
      Gear: 3,
      Tier: 2,
      Factor: 0.5,
      ChildLimit: 9,
      Level: 2,
      ModelMapper: { 'gpt-4': 'gpt-4o' },
      LevelMapper: 'o1*=3',
      ModelLimits: { 'gpt-4o': { rpm: 5 } },
      AllowModels: 'gpt-4o gpt-4o-mini',
    })
    const kid = await h.child(parent.key, { CreditGranted: 10, RPM: 30, HardLimit: 20 })
    const u = kid.reply.body.User.Updates
    expect(u, kid.reply.text).toMatchObject({
      Rates: 1.5,
      RPM: 30,
      TPD: 100000,
      Gear: 3,
      Tier: 2,
      Factor: 0.5,
      ChildLimit: 9,
      Level: 2,
      ModelMapper: { 'gpt-4': 'gpt-4o' },
      LevelMapper: { 'o1*': 3 },
      ModelLimits: { 'gpt-4o': { rpm: 5 } },
      AllowModels: '*',
      HardLimit: 20,
      SoftLimit: 16,
      ParentID: parent.id,
    })
  })

  test('ChildLimit caps the number of direct children', async () => {
    const parent = await h.child(h.gw.rootKey, { CreditGranted: 100, ChildLimit: 1 })
    await h.child(parent.key, { CreditGranted: 5 })
    const r = await h.req('POST', '/x-users', parent.key, {
      Name: h.uniq(),
      Email: `${h.uniq()}@example.com`,
      CreditGranted: 5,
    })
    expect(r.status, r.text).toBe(403)
    expect(r.body.error.message, r.text).toContain('ChildLimit')
  })
})

describe('bad input is a 400 naming the field, and changes nothing', () => {
  const ok = () => {
    const n = h.uniq('val')
    return { Name: n, Email: `${n}@example.com`, CreditGranted: 10 }
  }
  const cases: Array<[string, () => Record<string, unknown> | string, string, number?]> = [
    ['missing Name', () => ({ ...ok(), Name: undefined }), 'Name'],
    ['missing Email', () => ({ ...ok(), Email: undefined }), 'Email'],
    ['missing CreditGranted', () => ({ ...ok(), CreditGranted: undefined }), 'CreditGranted'],
    ['Name not a string', () => ({ ...ok(), Name: 42 }), 'Name'],
    ['Name too short', () => ({ ...ok(), Name: 'ab1' }), 'Name'],
    ['Name too long', () => ({ ...ok(), Name: 'a'.repeat(64) }), 'Name'],
    ['Name without a letter', () => ({ ...ok(), Name: '12345' }), 'Name'],
    ['Name reserved', () => ({ ...ok(), Name: 'Root' }), 'Name'],
    ['Name like a filter', () => ({ ...ok(), Name: 'L100' }), 'Name'],
    ['Name with a space', () => ({ ...ok(), Name: 'bad name' }), 'Name'],
    ['Email invalid', () => ({ ...ok(), Email: 'nobody' }), 'Email'],
    ['Email without a domain dot', () => ({ ...ok(), Email: 'a@b' }), 'Email'],
    [
      'CreditGranted below USER_MIN_BALANCE',
      () => ({ ...ok(), CreditGranted: 1.99 }),
      'CreditGranted',
    ],
    ['CreditGranted text that is no number', () => ({ ...ok(), CreditGranted: 'ten' }), 'CreditGranted'],
    ['CreditGranted numeric text below the minimum', () => ({ ...ok(), CreditGranted: '1' }), 'CreditGranted'],
    ['CreditGranted huge', () => ({ ...ok(), CreditGranted: 1e12 }), 'CreditGranted'],
    ['Days zero', () => ({ ...ok(), Days: 0 }), 'Days'],
    ['Days above 365', () => ({ ...ok(), Days: 366 }), 'Days'],
    ['Rates zero', () => ({ ...ok(), Rates: 0 }), 'Rates'],
    ['Rates huge', () => ({ ...ok(), Rates: 1e6 }), 'Rates'],
    ['RPM negative', () => ({ ...ok(), RPM: -1 }), 'RPM'],
    ['TPM fractional', () => ({ ...ok(), TPM: 1.5 }), 'TPM'],
    ['HardLimit negative', () => ({ ...ok(), HardLimit: -5 }), 'HardLimit'],
    ['Level out of range', () => ({ ...ok(), Level: 11 }), 'Level'],
    ['Status not a boolean', () => ({ ...ok(), Status: 'yes' }), 'Status'],
    ['AllowIPs bad CIDR', () => ({ ...ok(), AllowIPs: '10.0.0.0/33' }), 'AllowIPs'],
    ['AllowIPs host bits', () => ({ ...ok(), AllowIPs: '10.0.0.1/8' }), 'AllowIPs'],
    ['AllowIPs not an address', () => ({ ...ok(), AllowIPs: '300.1.1.1' }), 'AllowIPs'],
    ['AllowIPs bad v6', () => ({ ...ok(), AllowIPs: '2001:db8::/129' }), 'AllowIPs'],
    ['AllowModels bad pattern', () => ({ ...ok(), AllowModels: 'gpt 4o$' }), 'AllowModels'],
    ['AllowLevels not a level', () => ({ ...ok(), AllowLevels: '1 12' }), 'AllowLevels'],
    ['Resources not a path', () => ({ ...ok(), Resources: 'v1/chat' }), 'Resources'],
    [
      'ModelLimits bad value',
      () => ({ ...ok(), ModelLimits: { 'gpt-4o': { rpm: -1 } } }),
      'ModelLimits',
    ],
    [
      'ModelLimits bad key',
      () => ({ ...ok(), ModelLimits: { 'gpt 4o': { rpm: 1 } } }),
      'ModelLimits',
    ],
    ['ModelMapper bad target', () => ({ ...ok(), ModelMapper: 'gpt-4=' }), 'ModelMapper'],
    ['LevelMapper bad level', () => ({ ...ok(), LevelMapper: { 'o1*': 12 } }), 'LevelMapper'],
    ['BillingEmail invalid', () => ({ ...ok(), BillingEmail: 'x@' }), 'BillingEmail'],
    ['unknown field', () => ({ ...ok(), RateLimit: 5 }), 'RateLimit'],
    ['not JSON', () => '{"Name":', 'JSON'],
  ]
  for (const [what, body, field] of cases) {
    test(what, async () => {
      const before = await stateDigest(h.gw)
      const r = await h.req('POST', '/x-users', h.gw.rootKey, body())
      expect(r.status, r.text).toBe(400)
      expect(r.body.error.message, r.text).toContain(field)
      expect(await stateDigest(h.gw), `state changed by: ${r.text}`).toBe(before)
    })
  }

  test('a Name or Email in use is a 409 naming it', async () => {
    const first = await h.child(h.gw.rootKey, { CreditGranted: 5 })
    const before = await stateDigest(h.gw)
    const dupName = await h.req('POST', '/x-users', h.gw.rootKey, {
      Name: first.name,
      Email: `${h.uniq()}@example.com`,
      CreditGranted: 5,
    })
    expect(dupName.status, dupName.text).toBe(409)
    expect(dupName.body.error.message, dupName.text).toContain('Name')
    const dupEmail = await h.req('POST', '/x-users', h.gw.rootKey, {
      Name: h.uniq(),
      Email: `${first.name}@EXAMPLE.com`,
      CreditGranted: 5,
    })
    expect(dupEmail.status, dupEmail.text).toBe(409)
    expect(dupEmail.body.error.message, dupEmail.text).toContain('Email')
    expect(await stateDigest(h.gw)).toBe(before)
  })

  test("limits above the caller's and Rates below it are 400s naming the field", async () => {
    const parent = await h.child(h.gw.rootKey, {
      CreditGranted: 100,
      Rates: 2,
      RPM: 10,
      TPH: 1000,
      ChildLimit: 3,
    })
    for (const [field, value] of [
      ['Rates', 1.5],
      ['RPM', 11],
      ['TPH', 1001],
      ['ChildLimit', 4],
    ] as const) {
      const before = await stateDigest(h.gw)
      const r = await h.req('POST', '/x-users', parent.key, {
        Name: h.uniq(),
        Email: `${h.uniq()}@example.com`,
        CreditGranted: 5,
        [field]: value,
      })
      expect(r.status, r.text).toBe(400)
      expect(r.body.error.message, r.text).toStartWith(`${field}`)
      expect(await stateDigest(h.gw)).toBe(before)
    }
    const zero = await h.child(parent.key, { CreditGranted: 5, RPM: 0 })
    expect(zero.reply.body.User.Updates.RPM, '0 = no limit of its own, capped by the parent').toBe(
      0,
    )
  })
})
