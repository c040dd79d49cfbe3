// The console's one API client: every call to xgate goes through here, with the signed-in key as
// a Bearer token, JSON in and out, and xgate's errors turned into sentences a person can read.
import { signal } from '@preact/signals'

const KEY_SLOT = 'xgate.console.key'

/** The key of this tab's session (sessionStorage: gone when the tab closes; never a cookie). */
export const apiKey = signal<string | null>(sessionStorage.getItem(KEY_SLOT))

/** Set when xgate stops accepting the signed-in key (rotated elsewhere, account deleted). */
export const keyRefused = signal(false)

export function setKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_SLOT, key)
  else sessionStorage.removeItem(KEY_SLOT)
  apiKey.value = key
  keyRefused.value = false
}

const STATUS_WORDS: Record<number, string> = {
  400: 'The request was not accepted',
  401: 'The key was not accepted',
  402: 'Not enough balance',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Not allowed on this path',
  408: 'The request took too long',
  409: 'Conflict',
  413: 'Too large',
  429: 'Too many requests',
  500: 'xgate had an internal error',
  502: 'The provider did not answer properly',
  503: 'Unavailable',
  504: 'The provider took too long',
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message)
  }
}

/** "Not enough balance (402): insufficient balance to fund this account". */
export function errorWords(status: number, detail?: string): string {
  const head = STATUS_WORDS[status] ?? (status >= 500 ? 'Server error' : 'Request failed')
  return detail ? `${head} (${status}): ${detail}` : `${head} (${status})`
}

export type Answer<T> = { body: T; headers: Headers }

/** One call; resolves with the parsed JSON and the headers, or throws an ApiError in words. */
export async function request<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  key: string | null = apiKey.value,
): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (key) headers.authorization = `Bearer ${key}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    })
  } catch {
    throw new ApiError(0, 'xgate could not be reached: check the connection and try again')
  }
  const text = await res.text()
  let parsed: unknown = null
  try {
    parsed = text ? JSON.parse(text) : null
  } catch {
    parsed = text
  }
  if (!res.ok) {
    if (res.status === 401 && key !== null && key === apiKey.value) keyRefused.value = true
    const err = (parsed as { error?: { message?: string; code?: string; param?: string } })?.error
    throw new ApiError(res.status, errorWords(res.status, err?.message), err?.code, err?.param)
  }
  return { body: parsed as T, headers: res.headers }
}

export const get = async <T>(path: string) => (await request<T>('GET', path)).body
export const post = async <T>(path: string, body?: unknown) =>
  (await request<T>('POST', path, body ?? {})).body
export const put = async <T>(path: string, body: unknown) =>
  (await request<T>('PUT', path, body)).body
export const del = async <T>(path: string, body?: unknown) =>
  (await request<T>('DELETE', path, body)).body

/** A query string from the set values of `q` ('' when none). */
export function qs(q: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q))
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v))
  const s = p.toString()
  return s ? `?${s}` : ''
}

export const seg = (s: string | number) => encodeURIComponent(String(s))
