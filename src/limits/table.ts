// The bounded table of limit scopes: a Map with CLOCK eviction (second chance), an approximation
// of least-recently-used that costs one flag write per use instead of relinking a list.
import type { Scope } from './scope'

export class ScopeTable {
  private readonly map = new Map<string, Scope>()

  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size
  }

  /** A use: marks the scope so the next eviction pass spares it once. */
  get(key: string): Scope | undefined {
    const s = this.map.get(key)
    if (s) s.used = true
    return s
  }

  /** A look without counting as a use. */
  peek(key: string): Scope | undefined {
    return this.map.get(key)
  }

  set(key: string, scope: Scope): void {
    if (!this.map.has(key) && this.map.size >= this.max) this.evict()
    this.map.set(key, scope)
  }

  delete(key: string): void {
    this.map.delete(key)
  }

  values(): IterableIterator<Scope> {
    return this.map.values()
  }

  /**
   * Drops the oldest scope not used since the pass last went by it; used ones lose their mark and
   * move to the back. Each pass over a scope clears its mark, so this ends within one round.
   */
  private evict(): void {
    for (const [key, s] of this.map) {
      this.map.delete(key)
      if (!s.used) return
      s.used = false
      this.map.set(key, s)
    }
  }
}
