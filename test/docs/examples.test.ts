// "Test Request" in /swagger without editing: each admin example the document carries (body and
// path parameters, from the XAI reference) is sent as the page would send it, in the order a
// reader tries them, and xgate accepts every one on a fresh install.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { BODY_EXAMPLES } from '../../src/docs/examples'
import { call, startTestGateway, type TestGateway } from '../helpers/gateway'

let gw: TestGateway
let doc: any

beforeAll(async () => {
  gw = await startTestGateway()
  doc = await (await fetch(`${gw.url}/swagger/json`)).json()
})

afterAll(async () => {
  await gw?.close()
})

/** Creation first, root's own key rotation last (it retires the key the rest are sent with). */
const ORDER = [
  'POST /x-users',
  'PUT /x-users/{id}',
  'POST /x-users/{id}',
  'POST /x-keys',
  'PUT /x-keys/{id}',
  'POST /x-news',
  'POST /x-news/{target}',
  'POST /x-config',
  'POST /x-root',
  'POST /x-self',
]

test('every example body is in the replay', () => {
  expect([...ORDER].sort()).toEqual(Object.keys(BODY_EXAMPLES).sort())
})

/** The GET routes of the account the examples create, tried with their path examples. */
async function getsAnswer() {
  for (const template of ['/x-users/{id}', '/x-dna/{id}']) {
    const example = doc.paths[template].get.parameters.find((p: any) => p.name === 'id').example
    const res = await call(gw, 'GET', template.replace('{id}', encodeURIComponent(example)), {
      key: gw.rootKey,
    })
    expect(res.status, `GET ${template} → ${res.text}`).toBe(200)
  }
}

test('each example, as the page sends it, is accepted', async () => {
  for (const key of ORDER) {
    const [method, template] = key.split(' ') as [string, string]
    const op = doc.paths[template][method.toLowerCase()]
    let path = template
    for (const p of op.parameters ?? []) {
      if (p.in !== 'path') continue
      expect(p.example, `${key}: example for ${p.name}`).toBeDefined()
      path = path.replace(`{${p.name}}`, encodeURIComponent(String(p.example)))
    }
    const body = op.requestBody.content['application/json'].example
    const res = await call(gw, method, path, { key: gw.rootKey, body })
    expect(res.status, `${key} → ${res.text}`).toBe(200)
    if (key === 'POST /x-users') await getsAnswer()
  }
})
