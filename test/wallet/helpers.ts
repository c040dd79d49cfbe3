// Shared set-up of the wallet tests: a fake provider and a gateway, accounts made through the
// admin API, and calls read to their last byte.
import { expect } from 'bun:test'
import { call } from '../helpers/gateway'
import type { ProxyEnv } from '../proxy/fixtures'

export const USD = 1_000_000_000

let seq = 0

/** POST /x-users as `parentKey`; asserts 200. */
export async function child(
  env: ProxyEnv,
  parentKey: string,
  credit: number,
  extra: Record<string, unknown> = {},
) {
  const name = `wal${process.pid}x${++seq}`
  const r = await call(env.gw, 'POST', '/x-users', {
    key: parentKey,
    body: { Name: name, Email: `${name}@example.com`, CreditGranted: credit, ...extra },
  })
  expect(r.status, r.text).toBe(200)
  return { id: r.body.User.ID as number, key: r.body.User.SecretKey as string, name }
}

/** A streamed chat completion read to its end: status, text of the stream, headers. */
export async function streamChat(env: ProxyEnv, key: string, body: Record<string, unknown>) {
  const res = await fetch(`${env.gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  })
  const text = await res.text()
  return { status: res.status, text, headers: res.headers }
}

/** The highest value `read()` takes while `work` runs, sampled every millisecond. */
export async function peakWhile<T>(read: () => number, work: Promise<T>): Promise<[number, T]> {
  let peak = read()
  const timer = setInterval(() => {
    peak = Math.max(peak, read())
  }, 1)
  try {
    const out = await work
    return [Math.max(peak, read()), out]
  } finally {
    clearInterval(timer)
  }
}
