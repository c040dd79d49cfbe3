// Renders /swagger of a running xgate in headless Chromium with networking to anything but the
// gateway blocked, and fails unless the operations appear. Used by .ci/run on the compiled binary.
// usage: bun scripts/check-swagger.ts http://127.0.0.1:PORT [chromium-path]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const base = process.argv[2]
const chromium = process.argv[3] ?? '/usr/bin/chromium'
if (!base) {
  console.error('usage: bun scripts/check-swagger.ts http://127.0.0.1:PORT [chromium]')
  process.exit(2)
}
const profile = mkdtempSync(join(tmpdir(), 'xgate-chromium-'))
const host = new URL(base).host
const proc = Bun.spawn(
  [
    chromium, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${profile}`,
    // Everything except the gateway itself resolves nowhere: the page must not need the internet.
    `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${new URL(base).hostname}`,
    '--virtual-time-budget=15000', '--dump-dom', `${base}/swagger`,
  ],
  { stdout: 'pipe', stderr: 'pipe' },
)
const timer = setTimeout(() => proc.kill('SIGKILL'), 90_000)
const dom = await new Response(proc.stdout).text()
await proc.exited
clearTimeout(timer)
rmSync(profile, { recursive: true, force: true })
// The first tag (the proxied surfaces) opens expanded; the others show by name in the sidebar.
const wanted = ['/v1/chat/completions', 'Upstream keys', 'Account keys']
const missing = wanted.filter((w) => !dom.includes(w))
if (missing.length) {
  console.error(`swagger did not render from ${host}: missing ${missing.join(', ')} (dom ${dom.length} bytes)`)
  process.exit(1)
}
console.log(`swagger rendered offline from ${host}: ${dom.length} bytes of DOM, operations present`)
