// Many concurrent SSE streams through the real `xgate serve`, shared by the quick test
// (test/reliability) and the soak (test/soak): a fake upstream in this process, the clients in
// a child process (stream-clients.ts), the server's RSS sampled from /proc every interval, and the
// usage records read back from its database after a graceful stop.
import { openDataOf } from '../helpers/engine'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { generateKey } from '../../src/shared/ids'
import { startFakeUpstream, type FakeUpstream } from '../helpers/fake-upstream'
import { tempDir } from '../helpers/gateway'
import { startServe, type Child } from '../helpers/process'
import type { StreamOutcome } from './stream-clients'

export type StreamsOptions = {
  streams: number
  /** Content chunks per stream, and the upstream's pause before each (ms). */
  chunks: number
  chunkDelayMs: number
  /** Characters of content per chunk (default 8). */
  charsPerChunk?: number
  /** Accounts the streams are spread over (children of root). */
  accounts: number
  /** All streams are started within this time. */
  rampMs: number
  sampleMs: number
}

export type RssSample = { atMs: number; rssKb: number; upstreamInFlight: number }

export type StreamsFigures = {
  outcomes: StreamOutcome[]
  /** Server RSS over the run, `atMs` from the start of the clients. */
  samples: RssSample[]
  /** When every client had its response headers, and when the clients finished. */
  allOpenAtMs: number | null
  endedAtMs: number
  /** Most upstream calls seen in flight at once. */
  upstreamPeak: number
  usage: { records: number; ok: number; estimated: number; completionTokens: number }
  /** The text each stream should carry, in characters. */
  expectedChars: number
  serverExit: number | null
}

/** The soft open-files limit of this process (inherited by the server and the clients). */
export function openFilesLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'))
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1])
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) : 0
}

export async function runStreams(o: StreamsOptions): Promise<StreamsFigures> {
  // The server holds a client and an upstream socket per stream, this process an upstream one.
  const needed = 2 * o.streams + 256
  if (openFilesLimit() < needed) {
    throw new Error(`open-files limit below ${needed}: run under ulimit -n ${needed} or more`)
  }
  const text = 'abcdefgh'.repeat(Math.ceil(((o.charsPerChunk ?? 8) * o.chunks) / 8))
  const dir = tempDir('xgate-streams-')
  const keys = Array.from({ length: o.accounts }, () => generateKey())
  let upstream: FakeUpstream | null = null
  let server: Child | null = null
  let clients: ReturnType<typeof Bun.spawn> | null = null
  let sampler: ReturnType<typeof setInterval> | null = null
  let peakWatch: ReturnType<typeof setInterval> | null = null
  try {
    upstream = await startFakeUpstream({
      chunks: o.chunks,
      chunkDelayMs: o.chunkDelayMs,
      text,
      maxCalls: 0,
    })
    const users = keys.map((k, i) => `streamer${i}::streamer${i}@example.com::${k}::100`)
    server = await startServe({
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      INIT_USERS: [`root::root@example.com::${generateKey()}`, ...users].join(','),
      INIT_KEYS: `sk-fake-streams-upstream-0001::${upstream.url}`,
    })
    const pid = server.proc.pid
    const samples: RssSample[] = []
    let upstreamPeak = 0
    const t0 = performance.now()
    const sample = () => {
      const up = upstream!.tally.inFlight
      upstreamPeak = Math.max(upstreamPeak, up)
      samples.push({
        atMs: Math.round(performance.now() - t0),
        rssKb: rssKb(pid),
        upstreamInFlight: up,
      })
    }
    sample()
    sampler = setInterval(sample, o.sampleMs)
    peakWatch = setInterval(() => {
      upstreamPeak = Math.max(upstreamPeak, upstream!.tally.inFlight)
    }, 50)
    clients = Bun.spawn([process.execPath, join(import.meta.dir, 'stream-clients.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        BUN_CONFIG_MAX_HTTP_REQUESTS: String(o.streams + 64),
        GATEWAY_URL: server.url,
        KEYS: keys.join(','),
        STREAMS: String(o.streams),
        RAMP_MS: String(o.rampMs),
      },
      stdout: 'pipe',
      stderr: 'inherit',
    })
    let allOpenAtMs: number | null = null
    let result = ''
    const decoder = new TextDecoder()
    let carry = ''
    const reader = (clients.stdout as ReadableStream<Uint8Array>).getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      const lines = (carry + decoder.decode(r.value, { stream: true })).split('\n')
      carry = lines.pop()!
      for (const line of lines) {
        if (line === 'open') allOpenAtMs = Math.round(performance.now() - t0)
        else if (line.startsWith('result ')) result = line.slice(7)
      }
    }
    await clients.exited
    const endedAtMs = Math.round(performance.now() - t0)
    sample()
    clearInterval(sampler)
    clearInterval(peakWatch)
    sampler = peakWatch = null
    if (!result) throw new Error(`the clients gave no result (exit ${clients.exitCode})`)
    // A graceful stop flushes the write-behind; then the records are on disk.
    server.proc.kill('SIGTERM')
    const serverExit = await server.proc.exited
    const db = await openDataOf(dir)
    const usage = (await db.get<StreamsFigures['usage']>(
      `SELECT COUNT(*) AS records,
        CAST(COALESCE(SUM(CASE WHEN status = 200 THEN 1 ELSE 0 END), 0) AS BIGINT) AS ok,
        CAST(COALESCE(SUM(estimated), 0) AS BIGINT) AS estimated,
        CAST(COALESCE(SUM(completion_tokens), 0) AS BIGINT) AS "completionTokens" FROM usage_records`,
    ))!
    await db.close()
    return {
      outcomes: JSON.parse(result) as StreamOutcome[],
      samples,
      allOpenAtMs,
      endedAtMs,
      upstreamPeak,
      usage,
      expectedChars: text.length,
      serverExit,
    }
  } finally {
    if (sampler) clearInterval(sampler)
    if (peakWatch) clearInterval(peakWatch)
    clients?.kill('SIGKILL')
    if (server && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL')
      await server.proc.exited
    }
    await upstream?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** RSS in MiB, for messages. */
export const mib = (kb: number) => Math.round((kb / 1024) * 10) / 10
