// What a provider says when it does not serve a call: its error body, read up to a cap (the
// connection is released at once), and its words for refusing a key, kept with the secret masked.

/** Reads at most `max` bytes of an error answer and releases the connection. */
export async function readCapped(res: Response, max: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0)
  const reader = res.body.getReader()
  const parts: Uint8Array[] = []
  let n = 0
  try {
    for (;;) {
      const r = await reader.read()
      if (r.done) break
      parts.push(r.value)
      n += r.value.length
      if (n >= max) break
    }
  } catch {
    // A broken error body still leaves its status.
  } finally {
    reader.cancel().catch(() => {})
  }
  const out = new Uint8Array(Math.min(n, max))
  let at = 0
  for (const p of parts) {
    const take = Math.min(p.length, out.length - at)
    out.set(p.subarray(0, take), at)
    at += take
  }
  return out
}

/**
 * The provider's words for refusing a key, kept as the key's DisabledReason (shown by GET /x-keys,
 * stored, logged). Providers quote the key they refused: the secret, and any run of 8 or more of
 * its characters, is masked before anything is kept.
 */
export function reasonOf(status: number, body: Uint8Array, secret: string): string {
  let msg = ''
  try {
    const j = JSON.parse(new TextDecoder().decode(body))
    msg = String(j?.error?.message ?? j?.message ?? '')
  } catch {
    msg = ''
  }
  msg = msg
    .split(secret)
    .join('***')
    .replace(/[A-Za-z0-9_.-]{8,}/g, (t) => (secret.includes(t) ? '***' : t))
  return `upstream ${status}${msg ? `: ${msg.slice(0, 200)}` : ''}`
}
