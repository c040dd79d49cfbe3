// The XAI reference's curl examples, run as written with the real curl against a fresh xgate
// (the seed's host replaced by the test gateway's address, $API_KEY by the root key, the example
// account 42 by the seed's own prod-account): every one answers 2xx with JSON, and where the
// reference shows a Response, the answer has each of its fields (and the create's exact figures).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'
import { loadExamples, SEED_HOST } from './examples'

let gw: TestGateway
beforeAll(async () => {
  gw = await startTestGateway()
})
afterAll(async () => {
  await gw?.close()
})

const PROD = { Name: 'prod-account', Email: 'prod@company.com', CreditGranted: 500 }

/** The seed's example account: created when missing (the delete example removes it). */
async function prodId(): Promise<number> {
  const found = await call(gw, 'GET', '/x-dna/prod-account', { key: gw.rootKey })
  if (found.status === 200) return (Array.isArray(found.body) ? found.body[0] : found.body).ID
  const made = await call(gw, 'POST', '/x-users', { key: gw.rootKey, body: PROD })
  expect(made.status, made.text).toBe(200)
  return made.body.User.ID
}

async function curl(command: string): Promise<{ status: number; text: string }> {
  const proc = Bun.spawn(['bash', '-c', `${command} -s -w '\\n%{http_code}'`], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', API_KEY: gw.rootKey },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const out = await new Response(proc.stdout).text()
  await proc.exited
  const cut = out.lastIndexOf('\n')
  return { status: Number(out.slice(cut + 1)), text: out.slice(0, cut) }
}

/** Every field of `want` is in `got`, objects and arrays alike (values are the seed's samples). */
function missingFields(want: unknown, got: unknown, at = ''): string[] {
  if (want === null || typeof want !== 'object') return []
  if (got === null || typeof got !== 'object') return [at || '(root)']
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return [at]
    return want.length && got.length ? missingFields(want[0], got[0], `${at}[0]`) : []
  }
  return Object.entries(want).flatMap(([k, v]) =>
    k in (got as object)
      ? missingFields(v, (got as Record<string, unknown>)[k], `${at}.${k}`)
      : [`${at}.${k}`],
  )
}

const examples = loadExamples()

describe('the XAI reference curl examples', () => {
  test('the reference was read: its examples are all here', () => {
    expect(examples.length).toBeGreaterThanOrEqual(19)
  })

  for (const [i, ex] of examples.entries()) {
    const line = ex.command.split('\n')[0]!.replace(SEED_HOST, '')
    test(`${ex.section}: ${line.slice(0, 90)}`, async () => {
      const creates = /-X POST \S*\/x-users\s/.test(ex.command)
      if (creates) {
        const old = await call(gw, 'DELETE', '/x-users/prod-account', { key: gw.rootKey })
        expect([200, 404], old.text).toContain(old.status)
      }
      const id = creates ? 0 : await prodId()
      const command = ex.command
        .replaceAll(SEED_HOST, gw.url)
        .replace(/\/x-(users|news)\/42\b/, `/x-$1/${id}`)
      const r = await curl(command)
      expect(r.status, `example ${i}: ${r.text}`).toBeGreaterThanOrEqual(200)
      expect(r.status, `example ${i}: ${r.text}`).toBeLessThan(300)
      const body = JSON.parse(r.text)
      if (ex.response) expect(missingFields(ex.response, body), r.text).toEqual([])
      if (creates) {
        const u = body.User.Updates
        expect([u.Name, u.Email, u.CreditGranted, u.Balance, u.HardLimit, u.SoftLimit]).toEqual([
          'prod-account',
          'prod@company.com',
          500,
          500,
          5000,
          4000,
        ])
        expect(body.User.SecretKey, r.text).toMatch(/^sk-Xvs[A-Za-z0-9]{45}$/)
      }
    })
  }
})
