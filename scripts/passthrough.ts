// The benchmark's baseline: a bare Bun.serve + fetch passthrough with no auth, accounting or
// checks. `UPSTREAM=http://127.0.0.1:P PORT=Q bun scripts/passthrough.ts`
const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:8080'

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  async fetch(req) {
    const url = new URL(req.url)
    const res = await fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    })
    const headers = new Headers(res.headers)
    headers.delete('content-encoding')
    headers.delete('content-length')
    return new Response(res.body, { status: res.status, headers })
  },
})

process.stdout.write(`passthrough on ${server.port}\n`)
