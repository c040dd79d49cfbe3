// SoftLimit never ends above a non-zero HardLimit: a lowered HardLimit takes the SoftLimit down to
// 80 % of it (and Updates shows it), a body asking for SoftLimit above HardLimit is a 400 naming
// SoftLimit, on create and on update; HardLimit 0 (no limit) leaves any SoftLimit alone.
import { describe, expect, test } from 'bun:test'
import { useGateway } from '../accounts/helpers'

const h = useGateway()

describe('PUT /x-users/{id}: HardLimit and SoftLimit', () => {
  test('a HardLimit lowered below the SoftLimit takes it to 80 % of the new HardLimit', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    expect((await h.get(kid.id)).SoftLimit).toBe(800)
    const r = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, { HardLimit: 500 })
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Updates, r.text).toMatchObject({ HardLimit: 500, SoftLimit: 400 })
    const after = await h.get(kid.id)
    expect([after.HardLimit, after.SoftLimit], JSON.stringify(after)).toEqual([500, 400])
  })

  test('a HardLimit still above the SoftLimit leaves the SoftLimit as it is', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const r = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, { HardLimit: 900 })
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Updates.SoftLimit, r.text).toBeUndefined()
    expect((await h.get(kid.id)).SoftLimit).toBe(800)
  })

  test('both given, SoftLimit above HardLimit: 400 naming SoftLimit, nothing changes', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const r = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, {
      HardLimit: 300,
      SoftLimit: 400,
    })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.param, r.text).toBe('SoftLimit')
    expect(r.body.error.message, r.text).toContain('SoftLimit')
    const after = await h.get(kid.id)
    expect([after.HardLimit, after.SoftLimit], JSON.stringify(after)).toEqual([1000, 800])
  })

  test('SoftLimit alone above the stored HardLimit: 400 naming SoftLimit', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const r = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, { SoftLimit: 1500 })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.param, r.text).toBe('SoftLimit')
  })

  test('both given and consistent: both stored, SoftLimit equal to HardLimit allowed', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const r = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, {
      HardLimit: 200,
      SoftLimit: 200,
    })
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Updates, r.text).toMatchObject({ HardLimit: 200, SoftLimit: 200 })
  })

  test('HardLimit 0 means no limit: any SoftLimit may go with it', async () => {
    const kid = await h.child(h.gw.rootKey, { CreditGranted: 100 })
    const r = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, {
      HardLimit: 0,
      SoftLimit: 5000,
    })
    expect(r.status, r.text).toBe(200)
    expect(r.body.User.Updates, r.text).toMatchObject({ HardLimit: 0, SoftLimit: 5000 })
    const again = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, { SoftLimit: 7000 })
    expect(again.status, again.text).toBe(200)
    // From no limit to a limit below the SoftLimit: the SoftLimit follows it down.
    const capped = await h.req('PUT', `/x-users/${kid.id}`, h.gw.rootKey, { HardLimit: 1000 })
    expect(capped.status, capped.text).toBe(200)
    expect(capped.body.User.Updates, capped.text).toMatchObject({ HardLimit: 1000, SoftLimit: 800 })
  })
})

describe('POST /x-users: HardLimit and SoftLimit', () => {
  test('both given, SoftLimit above HardLimit: 400 naming SoftLimit, no account made', async () => {
    const name = h.uniq('soft')
    const r = await h.req('POST', '/x-users', h.gw.rootKey, {
      Name: name,
      Email: `${name}@example.com`,
      CreditGranted: 10,
      HardLimit: 50,
      SoftLimit: 60,
    })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.param, r.text).toBe('SoftLimit')
    expect((await h.req('GET', `/x-dna/${name}`, h.gw.rootKey)).status).toBe(404)
  })

  test('SoftLimit alone above the default HardLimit (10 × CreditGranted): 400', async () => {
    const name = h.uniq('soft')
    const r = await h.req('POST', '/x-users', h.gw.rootKey, {
      Name: name,
      Email: `${name}@example.com`,
      CreditGranted: 10,
      SoftLimit: 101,
    })
    expect(r.status, r.text).toBe(400)
    expect(r.body.error.param, r.text).toBe('SoftLimit')
  })

  test('the seed body (HardLimit 1000, SoftLimit 800) and HardLimit 0 with a SoftLimit pass', async () => {
    const a = await h.child(h.gw.rootKey, { CreditGranted: 100, HardLimit: 1000, SoftLimit: 800 })
    expect(a.reply.body.User.Updates, a.reply.text).toMatchObject({ HardLimit: 1000, SoftLimit: 800 })
    const b = await h.child(h.gw.rootKey, { CreditGranted: 10, HardLimit: 0, SoftLimit: 900 })
    expect(b.reply.body.User.Updates, b.reply.text).toMatchObject({ HardLimit: 0, SoftLimit: 900 })
  })
})
