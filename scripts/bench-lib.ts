// What the proxy benchmarks share: starting the processes they measure, reading their CPU and
// memory from /proc, and one wrk run with the Lua script that reports its figures.
import { spawn, type Subprocess } from 'bun'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Starts `cmd` and waits until it answers /healthz on `port`; added to `procs` for the cleanup. */
export async function startProcess(
  procs: Subprocess[],
  name: string,
  cmd: string[],
  env: Record<string, string>,
  port: number,
): Promise<Subprocess> {
  const p = spawn(cmd, { env: { ...process.env, ...env }, stdout: 'ignore', stderr: 'inherit' })
  procs.push(p)
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`)
      return p
    } catch {
      await Bun.sleep(50)
    }
  }
  throw new Error(`${name} did not start`)
}

/** utime + stime of a process, in ms (clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(f[11]) + Number(f[12])) * 10
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m![1]) / 1024
}

/** Busy CPU of the whole machine (all processes), in ms. */
export function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number)
  return (f[1]! + f[2]! + f[3]! + f[6]! + f[7]!) * 10
}

/** Writes the wrk script (POST of $BODY with $KEY as Bearer; one RESULT line) into `dir`. */
export function writeWrkScript(dir: string): string {
  const lua = join(dir, 'post.lua')
  writeFileSync(
    lua,
    `wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = "application/json"
if os.getenv("KEY") ~= "" then wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY") end
done = function(s, lat, req)
  local e = s.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", s.requests, s.duration, lat:percentile(50),
    lat:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
`,
  )
  return lua
}

export type WrkResult = {
  requests: number
  rps: number
  p50us: number
  p99us: number
  /** Socket errors and non-2xx answers. */
  errors: number
  /** CPU wrk itself used, ms. */
  wrkMs: number
}

/** One wrk run (-t1) against /v1/chat/completions on `port`. */
export async function runWrk(o: {
  lua: string
  port: number
  conns: number
  seconds: number
  key: string
  body: string
}): Promise<WrkResult> {
  const url = `http://127.0.0.1:${o.port}/v1/chat/completions`
  const p = spawn(['wrk', '-t1', `-c${o.conns}`, `-d${o.seconds}s`, '-s', o.lua, url], {
    env: { ...process.env, KEY: o.key, BODY: o.body },
    stdout: 'pipe',
  })
  const out = await new Response(p.stdout).text()
  await p.exited
  const m = /RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)/.exec(out)
  if (!m) throw new Error(`wrk output: ${out}`)
  const [requests, durUs, p50, p99, errors, non2xx] = m.slice(1).map(Number) as number[]
  return {
    requests: requests!,
    rps: (requests! * 1e6) / durUs!,
    p50us: p50!,
    p99us: p99!,
    errors: errors! + non2xx!,
    wrkMs: Number(p.resourceUsage()!.cpuTime.total) / 1000,
  }
}
