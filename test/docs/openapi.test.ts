// /swagger/json as an operator's tools read it: valid for swagger-parser and for Redocly's
// recommended rules, in OpenAPI 3.0 form, with error answers, JSON-only admin bodies carrying the
// XAI reference's examples, tags as users look for them, and a server entry.
import SwaggerParser from '@apidevtools/swagger-parser'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BODY_EXAMPLES } from '../../src/docs/examples'
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway'

const ROOT = join(import.meta.dir, '../..')
const METHODS = ['get', 'put', 'post', 'delete', 'patch']

let gw: TestGateway
let doc: any
let dir: string
let file: string

type Op = { path: string; method: string; op: any }
const operations = (): Op[] =>
  Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ path, method, op })),
  )

beforeAll(async () => {
  gw = await startTestGateway()
  const res = await fetch(`${gw.url}/swagger/json`)
  expect(res.status).toBe(200)
  doc = await res.json()
  dir = tempDir('xgate-openapi-')
  file = join(dir, 'openapi.json')
  writeFileSync(file, JSON.stringify(doc, null, 2))
})

afterAll(async () => {
  await gw?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('validators', () => {
  test('swagger-parser validates the document', async () => {
    let problem = ''
    try {
      await SwaggerParser.validate(structuredClone(doc))
    } catch (e) {
      problem = String(e).slice(0, 4000)
    }
    expect(problem).toBe('')
  })

  test('redocly lint --extends recommended finds no error', async () => {
    const proc = Bun.spawn(
      [
        join(ROOT, 'node_modules/.bin/redocly'),
        'lint',
        '--extends',
        'recommended',
        '--format',
        'json',
        '--max-problems',
        '10000',
        file,
      ],
      {
        cwd: dir,
        env: {
          ...process.env,
          REDOCLY_TELEMETRY: 'off',
          // no update check against the npm registry: the test runs offline
          REDOCLY_SUPPRESS_NOTIFICATIONS: 'true',
          NO_COLOR: '1',
        },
        stdout: 'pipe',
        stderr: 'pipe',
      },
    )
    const [out, err] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ])
    await proc.exited
    const report = JSON.parse(out) as {
      problems: Array<{
        severity: string
        ruleId: string
        message: string
        location: Array<{ pointer: string }>
      }>
    }
    const errors = report.problems
      .filter((p) => p.severity === 'error')
      .map((p) => `${p.ruleId} ${p.message} at ${p.location[0]?.pointer}`)
    expect(errors, err.slice(0, 2000)).toEqual([])
    // Two warnings are deliberate: xgate states no license, and /healthz has no error answer.
    // Any other (an example its schema refuses, a tag without description) is a finding.
    const expected = [
      'info-license #/info',
      'operation-4xx-response #/paths/~1healthz/get/responses',
    ]
    const warnings = report.problems
      .filter((p) => p.severity !== 'error')
      .map((p) => `${p.ruleId} ${p.location[0]?.pointer}`)
      .filter((w) => !expected.includes(w))
    expect(warnings).toEqual([])
  }, 45_000)
})

describe('OpenAPI 3.0 form', () => {
  test('no 3.1 keywords or shapes remain in any schema', () => {
    const found: string[] = []
    const walk = (n: any, at: string) => {
      if (Array.isArray(n)) return n.forEach((x, i) => walk(x, `${at}/${i}`))
      if (!n || typeof n !== 'object') return
      const inSchema = !at.endsWith('/properties') && !at.endsWith('/example')
      if (inSchema) {
        if ('const' in n) found.push(`${at}: const`)
        if ('patternProperties' in n) found.push(`${at}: patternProperties`)
        if (Array.isArray(n.type)) found.push(`${at}: type array`)
        if (n.type === 'null') found.push(`${at}: type null`)
        if (typeof n.exclusiveMinimum === 'number' || typeof n.exclusiveMaximum === 'number')
          found.push(`${at}: numeric exclusive bound`)
        if (Array.isArray(n.examples)) found.push(`${at}: examples array`)
        const branches = n.anyOf ?? n.oneOf
        if (Array.isArray(branches)) {
          const types = branches.map((b: any) => b.type)
          if (
            types.includes('string') &&
            (types.includes('integer') || types.includes('number')) &&
            branches.some((b: any) => b.format === 'integer' || b.format === 'numeric')
          )
            found.push(`${at}: numeric string beside its number`)
        }
      }
      if (at.endsWith('/example')) return
      for (const [k, v] of Object.entries(n)) walk(v, `${at}/${k}`)
    }
    walk(doc.paths, '#/paths')
    walk(doc.components, '#/components')
    expect(found).toEqual([])
    expect(doc.openapi).toBe('3.0.3')
  })

  test('integers are integers; nullable fields say so', () => {
    const health = doc.paths['/healthz'].get.responses['200'].content['application/json'].schema
    expect(health.properties.uptimeS).toEqual({ type: 'integer' })
    expect(health.properties.status).toMatchObject({ type: 'string', enum: ['ok'] })
    const create = doc.paths['/x-users'].post.requestBody.content['application/json'].schema
    expect(create.properties.BillingEmail).toMatchObject({ type: 'string', nullable: true })
  })
})

describe('every operation', () => {
  test('has a summary, a unique operationId, described answers and at least one 2xx', () => {
    const ids = new Set<string>()
    for (const { path, method, op } of operations()) {
      const where = `${method.toUpperCase()} ${path}`
      expect(op.summary, where).toBeTruthy()
      expect(ids.has(op.operationId), `${where}: ${op.operationId}`).toBe(false)
      ids.add(op.operationId)
      expect(
        Object.keys(op.responses).some((s) => s.startsWith('2')),
        where,
      ).toBe(true)
      for (const [status, r] of Object.entries(op.responses) as Array<[string, any]>)
        expect(Boolean(r.$ref || r.description), `${where} ${status}`).toBe(true)
    }
  })

  test('x- routes answer 400, 401, 403 and 404 with the Error schema', () => {
    const admin = operations().filter(({ path }) => path.startsWith('/x-'))
    expect(admin.length).toBeGreaterThan(20)
    for (const { path, method, op } of admin)
      for (const status of ['400', '401', '403', '404'])
        expect(op.responses[status], `${method} ${path} ${status}`).toEqual({
          $ref: expect.stringMatching(/^#\/components\/responses\/[A-Z]\w+$/),
        })
    expect(doc.paths['/x-users'].post.responses['409']).toBeDefined()
    expect(doc.paths['/x-users'].post.responses['413']).toBeDefined()
    const bad = doc.components.responses.BadRequest.content['application/json']
    expect(bad.schema).toEqual({ $ref: '#/components/schemas/Error' })
    expect(doc.components.schemas.Error.properties.error.required).toEqual([
      'message',
      'type',
      'code',
    ])
  })

  test('proxied calls answer 402 and 429; the Anthropic surface in its own error shape', () => {
    for (const { path, op } of operations().filter(
      (o) => o.method === 'post' && o.path.startsWith('/v1/'),
    )) {
      for (const status of ['400', '401', '402', '403', '413', '429'])
        expect(op.responses[status], `${path} ${status}`).toBeDefined()
      const name = op.responses['429'].$ref.split('/').pop()
      const schema = doc.components.responses[name].content['application/json'].schema.$ref
      expect(schema, path).toBe(
        path.startsWith('/v1/messages')
          ? '#/components/schemas/AnthropicError'
          : '#/components/schemas/Error',
      )
    }
  })

  test('the Error schemas describe the bodies xgate really sends', async () => {
    const admin = await fetch(`${gw.url}/x-users`)
    const body = (await admin.json()) as any
    expect(admin.status).toBe(401)
    for (const k of doc.components.schemas.Error.properties.error.required)
      expect(typeof body.error[k], JSON.stringify(body)).toBe('string')
    const anthropic = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    const aBody = (await anthropic.json()) as any
    expect(aBody.type, JSON.stringify(aBody)).toBe('error')
    for (const k of doc.components.schemas.AnthropicError.properties.error.required)
      expect(typeof aBody.error[k], JSON.stringify(aBody)).toBe('string')
  })
})

describe('usable from the page', () => {
  test('admin bodies are JSON only; multipart stays where the provider takes it', () => {
    for (const { path, method, op } of operations()) {
      if (!op.requestBody) continue
      const types = Object.keys(op.requestBody.content)
      if (path === '/v1/audio/transcriptions') expect(types).toEqual(['multipart/form-data'])
      else expect(types, `${method} ${path}`).toEqual(['application/json'])
    }
  })

  test("x- bodies carry the XAI reference's example; rotation confirms today's date", () => {
    for (const key of Object.keys(BODY_EXAMPLES)) {
      const [method, path] = key.split(' ') as [string, string]
      const media =
        doc.paths[path]?.[method.toLowerCase()]?.requestBody?.content?.['application/json']
      expect(media?.example, key).toBeDefined()
    }
    const x = (p: string) => doc.paths[p].post.requestBody.content['application/json'].example
    expect(x('/x-users')).toMatchObject({
      Name: 'prod-account',
      Email: 'prod@company.com',
      CreditGranted: 500,
    })
    expect(x('/x-keys')).toMatchObject({
      Name: 'Claude API Key',
      Provider: 'https://api.anthropic.com',
    })
    const today = new Date().toISOString().slice(0, 10)
    expect(x('/x-self')).toEqual({ confirm: `${today}-ROTATE-SELF` })
    expect(x('/x-root').confirm).toBe(`${today}-ROTATE-ROOT`)
  })

  test('a server entry completes the curl samples', () => {
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }])
  })

  test('tags: account keys apart from upstream keys', () => {
    const tagsOf = (path: string, method: string) => doc.paths[path][method].tags
    for (const [p, m] of [
      ['/x-self', 'post'],
      ['/x-root', 'post'],
      ['/x-gkey', 'get'],
    ] as const)
      expect(tagsOf(p, m), p).toEqual(['Account keys'])
    for (const { path, op } of operations().filter((o) => o.path.startsWith('/x-keys')))
      expect(op.tags, path).toEqual(['Upstream keys'])
    const names = doc.tags.map((t: any) => t.name)
    expect(names).toContain('Account keys')
    expect(names).toContain('Upstream keys')
    for (const { path, op } of operations())
      for (const t of op.tags ?? []) expect(names, `${path}: ${t}`).toContain(t)
  })
})
