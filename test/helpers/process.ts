// Runs the real CLI (`bun src/main.ts …`) as a child process, for tests of signals, locks and
// start-up. The server picks a free port itself (--port 0) and we read it from its log line.
import { join } from 'node:path'
import { databaseFor } from './engine'

export const MAIN = join(import.meta.dir, '../../src/main.ts')

export type Child = { proc: ReturnType<typeof Bun.spawn>; url: string; stdout: () => string; stderr: () => string }

function collect(stream: ReadableStream<Uint8Array>) {
  let text = ''
  const dec = new TextDecoder()
  const reader = stream.getReader()
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      text += dec.decode(value, { stream: true })
    }
  })()
  return () => text
}

/** The environment of a child: on PostgreSQL runs, the database of its DATA_DIR (engine.ts). */
async function childEnv(env: Record<string, string>): Promise<Record<string, string>> {
  const url = env.DATA_DIR && !env.DATABASE_URL ? await databaseFor(env.DATA_DIR) : undefined
  return url ? { ...env, DATABASE_URL: url } : env
}

export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000) {
  const full = await childEnv(env)
  const proc = Bun.spawn([process.execPath, MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...full },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  clearTimeout(timer)
  return { stdout, stderr, code }
}

/** Starts `xgate serve` and waits for its "listening" log line. */
export async function startServe(env: Record<string, string>, extraArgs: string[] = []): Promise<Child> {
  const full = await childEnv(env)
  const proc = Bun.spawn([process.execPath, MAIN, 'serve', '--host', '127.0.0.1', '--port', '0', ...extraArgs], {
    env: { PATH: process.env.PATH ?? '', TZ: 'UTC', ...full },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const stdout = collect(proc.stdout as ReadableStream<Uint8Array>)
  const stderr = collect(proc.stderr as ReadableStream<Uint8Array>)
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const m = /listening on http:\/\/[^:]+:(\d+)/.exec(stdout())
    if (m) return { proc, url: `http://127.0.0.1:${m[1]}`, stdout, stderr }
    if (proc.exitCode !== null) break
    await Bun.sleep(25)
  }
  proc.kill('SIGKILL')
  throw new Error(`server did not start: ${stderr()} ${stdout()}`)
}
