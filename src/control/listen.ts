// Where the control listener binds: parsing `host:port` / `/unix/path`, telling loopback from
// the world (no token is needed only there), and clearing a stale unix socket left by a crash.

import { lstatSync, unlinkSync } from 'node:fs'
import { connect } from 'node:net'

export type ListenTarget =
  { kind: 'tcp'; host: string; port: number; loopback: boolean } | { kind: 'unix'; path: string }

/** Throws a one-line Error naming the bad value. */
export function parseListen(listen: string): ListenTarget {
  const s = listen.trim()
  if (s.startsWith('/')) return { kind: 'unix', path: s }
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s)
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) {
    throw new Error(`control API listen "${listen}": expected host:port, [v6]:port or /unix/path`)
  }
  // An empty host means every interface, as in Xray.
  const host = m[1] ?? (m[2] || '0.0.0.0')
  return { kind: 'tcp', host, port, loopback: isLoopback(host) }
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase()
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)
}

/** The address grpc-js binds to. */
export function bindAddress(t: ListenTarget): string {
  if (t.kind === 'unix') return `unix:${t.path}`
  return t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`
}

/**
 * A socket file left by a killed process would make the bind fail: remove it when nobody answers
 * on it. A live socket (another xgate) or a file that is not a socket is an error.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean
  try {
    isSocket = lstatSync(path).isSocket()
  } catch {
    return
  }
  if (!isSocket) throw new Error(`control API socket ${path} exists and is not a socket`)
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect(path)
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
  if (alive) throw new Error(`control API socket ${path} is in use by another process`)
  unlinkSync(path)
}
