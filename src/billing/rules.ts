// What a proxied call is billed for, given what it consumed: the usage the upstream reported (or
// an estimate when a successful token-priced call reported none), the images it asked for, and
// nothing for free endpoints. A translated call is billed by these same rules as a native one.
import type { ResolvedPrice, Usage } from './pricing'

/** OpenAI makes at most 10 images per call; a larger `n` is refused there, never made. */
export const MAX_IMAGES_PER_CALL = 10

/**
 * The images a call is billed for: the requested `n` as a whole number from 1 to 10. Billing a
 * raw `n` let one request with `n: 1e300` put its account millions of dollars in debt.
 */
export function imagesAsked(n: unknown): number {
  const v = Math.floor(Number(n ?? 1))
  return Number.isFinite(v) ? Math.min(MAX_IMAGES_PER_CALL, Math.max(1, v)) : 1
}

/** What the proxy's meter knows when a call settles. */
export type Metered = {
  /** Usage as reported upstream so far (null when none). */
  readonly usage: Usage | null
  /** Final usage: the upstream's when complete, else estimated from the text and the prompt. */
  final(body: unknown): { usage: Usage; estimated: boolean }
}

export type BilledCall = {
  /** The endpoint's kind (images are billed per image) and whether it is free. */
  kind: string
  free: boolean
  status: number
  /** The client's request body (`n` for images; the prompt for estimates). */
  json: Record<string, any> | null
  price: ResolvedPrice | undefined
}

/** Reported usage; for a successful call without it, an estimate when tokens are priced. */
export function usageOf(c: BilledCall, meter: Metered): { usage: Usage | null; estimated: boolean } {
  const images = c.kind === 'images' && c.status < 400 ? imagesAsked(c.json?.n) : undefined
  if (c.free) return { usage: null, estimated: false }
  const p = c.price?.nano
  const tokenPriced = !p || p.inputPerM > 0n || p.outputPerM > 0n
  if (c.status >= 400 || !tokenPriced) {
    const u = meter.usage
    return {
      usage: u
        ? { ...u, images }
        : images
          ? { promptTokens: 0, completionTokens: 0, cachedTokens: 0, images }
          : null,
      estimated: false,
    }
  }
  const final = meter.final(c.json)
  return images === undefined
    ? final
    : { usage: { ...final.usage, images }, estimated: final.estimated }
}
