// What one call consumed, as the response flows by: the upstream's usage when it reports one, and
// the generated text for an estimate when it does not (aborted streams). Memory stays bounded:
// text is tokenized and dropped in slices once it passes SLICE_CHARS.
import type { Usage } from '../billing/pricing'

const SLICE_CHARS = 64 * 1024

export type Tokenizer = {
  /** Tokens of generated text. */
  count(text: string): number
  /** Tokens of the prompt a request body carries. */
  prompt(body: unknown): number
}

export class Meter {
  /** Usage as reported upstream so far; `complete` once its final figures were seen. */
  usage: Usage | null = null
  complete = false
  private pieces: string[] = []
  private chars = 0
  private counted = 0

  constructor(private readonly tokenizer: Tokenizer) {}

  report(usage: Usage, complete: boolean): void {
    this.usage = usage
    this.complete = complete
  }

  addText(text: unknown): void {
    if (typeof text !== 'string' || text.length === 0) return
    this.pieces.push(text)
    this.chars += text.length
    if (this.chars >= SLICE_CHARS) {
      this.counted += this.tokenizer.count(this.pieces.join(''))
      this.pieces = []
      this.chars = 0
    }
  }

  /** Tokens of the text seen so far. */
  completionEstimate(): number {
    return this.counted + (this.chars > 0 ? this.tokenizer.count(this.pieces.join('')) : 0)
  }

  /**
   * Final usage: the upstream's when complete; else what it reported with the completion raised
   * to the estimate of the text seen, prompt estimated from `body` when never reported.
   */
  final(body: unknown): { usage: Usage; estimated: boolean } {
    if (this.usage && this.complete) return { usage: this.usage, estimated: false }
    const completion = Math.max(this.usage?.completionTokens ?? 0, this.completionEstimate())
    const promptTokens = this.usage ? this.usage.promptTokens : this.tokenizer.prompt(body)
    return {
      usage: {
        promptTokens,
        completionTokens: completion,
        cachedTokens: this.usage?.cachedTokens ?? 0,
      },
      estimated: true,
    }
  }
}
