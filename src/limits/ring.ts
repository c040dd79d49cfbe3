// One sliding window (a minute or an hour) kept as a ring of fixed buckets of request and token
// counts, with running totals and per-bucket dirty marks for the write-behind.

/**
 * `bucketMs`: width of one bucket. `slots`: buckets kept, one more than the span holds whole, so
 * a count made at t stays in the window until its bucket is `slots` buckets old: for at least the
 * span and at most span + bucketMs. Counting a little long never admits more than the limit in
 * any true span-long interval; counting short would.
 */
export type RingSpec = { readonly bucketMs: number; readonly slots: number }

/** A call at t counts until a moment in (t + 60 s, t + 61 s]. */
export const MINUTE: RingSpec = { bucketMs: 1_000, slots: 61 }
/** A call at t counts until a moment in (t + 60 min, t + 61 min]. */
export const HOUR: RingSpec = { bucketMs: 60_000, slots: 61 }

export type BucketRow = { bucketMs: number; requests: number; tokens: number }

/** Field index inside a bucket: requests or tokens. */
export type Field = 0 | 1

export class Ring {
  readonly spec: RingSpec
  /** Slot i holds bucket b with b ≡ i (mod slots): requests at 2i, tokens at 2i + 1. */
  readonly cells: Float64Array
  private readonly dirty: Uint8Array
  private dirtyCount = 0
  /** Newest bucket index reached; the live buckets are (newest - slots, newest]. */
  private newest: number
  /** Sums over the live buckets, kept in step with every write and expiry. */
  readonly totals: [number, number] = [0, 0]

  constructor(spec: RingSpec, nowMs: number) {
    this.spec = spec
    this.cells = new Float64Array(spec.slots * 2)
    this.dirty = new Uint8Array(spec.slots)
    this.newest = Math.floor(nowMs / spec.bucketMs)
  }

  /**
   * Moves the window to `nowMs`, clearing buckets that left it, and returns the bucket writes go
   * to. A clock that steps back keeps writing to the newest bucket seen, which only counts long.
   */
  advance(nowMs: number): number {
    const b = Math.floor(nowMs / this.spec.bucketMs)
    if (b > this.newest) {
      const steps = Math.min(b - this.newest, this.spec.slots)
      for (let k = b - steps + 1; k <= b; k++) this.clear(this.slot(k))
      this.newest = b
    }
    return this.newest
  }

  /** Whether bucket `b` is still inside the window (as of the last advance). */
  holds(b: number): boolean {
    return b <= this.newest && b > this.newest - this.spec.slots
  }

  /**
   * Adds to bucket `b` if it is still live and returns whether it was. A bucket never goes below
   * zero. `persisted` skips the dirty mark (restore writes what the database already holds).
   */
  add(b: number, requests: number, tokens: number, persisted = false): boolean {
    if (!this.holds(b)) return false
    const i = this.slot(b)
    this.bump(2 * i, 0, requests)
    this.bump(2 * i + 1, 1, tokens)
    if (!persisted && this.dirty[i] === 0) {
      this.dirty[i] = 1
      this.dirtyCount++
    }
    return true
  }

  /**
   * Milliseconds from `nowMs` until at least `excess` units of `field` have left the window,
   * walking buckets oldest first. Call after advance(nowMs).
   */
  msUntilFreed(field: Field, excess: number, nowMs: number): number {
    const { slots, bucketMs } = this.spec
    let freed = 0
    for (let k = this.newest - slots + 1; k <= this.newest; k++) {
      freed += this.cells[2 * this.slot(k) + field]!
      // Bucket k leaves once floor(now / bucketMs) reaches k + slots.
      if (freed >= excess) return (k + slots) * bucketMs - nowMs
    }
    return (this.newest + slots) * bucketMs - nowMs
  }

  /** The buckets written since the last drain, as rows; clears the marks. */
  drain(): BucketRow[] {
    const rows: BucketRow[] = []
    if (this.dirtyCount === 0) return rows
    const { slots, bucketMs } = this.spec
    const newestSlot = this.slot(this.newest)
    for (let i = 0; i < slots; i++) {
      if (this.dirty[i] === 0) continue
      this.dirty[i] = 0
      const b = this.newest - ((newestSlot - i + slots) % slots)
      rows.push({
        bucketMs: b * bucketMs,
        requests: this.cells[2 * i]!,
        tokens: this.cells[2 * i + 1]!,
      })
    }
    this.dirtyCount = 0
    return rows
  }

  private slot(b: number): number {
    const s = this.spec.slots
    return ((b % s) + s) % s
  }

  private bump(cell: number, field: Field, delta: number): void {
    const before = this.cells[cell]!
    const after = Math.max(0, before + delta)
    this.cells[cell] = after
    this.totals[field] += after - before
  }

  private clear(i: number): void {
    this.totals[0] -= this.cells[2 * i]!
    this.totals[1] -= this.cells[2 * i + 1]!
    this.cells[2 * i] = 0
    this.cells[2 * i + 1] = 0
    if (this.dirty[i] === 1) {
      // An expired bucket needs no write: restore would drop it anyway.
      this.dirty[i] = 0
      this.dirtyCount--
    }
  }
}
