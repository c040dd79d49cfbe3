// What an operator gives for an upstream key: the input fields, provider URL normalisation,
// type inference and the INIT_KEYS format.
import type { KeyType } from './repo'

export type KeyInput = {
  SecretKey?: string
  Name?: string
  Level?: number
  Provider?: string
  Type?: KeyType
  Status?: boolean
  Weight?: number
  Concurrency?: number
}

/** `https://api.openai.com/v1/` → `https://api.openai.com`: the proxy appends `/v1/...` itself. */
export function normalizeProvider(raw: string): string | null {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return null
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) return null
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '').replace(/\/v1$/, '')
}

export function inferType(provider: string): KeyType {
  return new URL(provider).hostname.includes('anthropic') ? 'anthropic' : 'openai'
}

/** INIT_KEYS: `secret::providerURL[::type]`, comma-separated. Throws naming the bad entry. */
export function parseInitKeys(raw: string): KeyInput[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const [secret, provider, type, ...rest] = entry.split('::')
      const where = `INIT_KEYS entry ${i + 1}`
      if (!secret || !provider || rest.length)
        throw new Error(`${where}: expected secret::providerURL[::type]`)
      if (!normalizeProvider(provider)) throw new Error(`${where}: provider must be an http(s) URL`)
      if (type !== undefined && type !== 'openai' && type !== 'anthropic') {
        throw new Error(`${where}: type must be openai or anthropic`)
      }
      return { SecretKey: secret, Provider: provider, Type: type, Level: 1 }
    })
}
