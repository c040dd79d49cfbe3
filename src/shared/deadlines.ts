// Deadlines of one fixed length (the whole-call limit, the first-byte limit, the client watch)
// kept in one queue with one timer, instead of a timer per call. Entries join in deadline order (same length,
// monotonic clock), so the oldest is always first: the timer is armed for it alone. Cancelled
// entries are swept out once they outnumber the live ones, so memory follows the calls in flight,
// not the calls per timeout period.

/** What a deadline stops. */
export type Abortable = { abort(): void }

export type Deadline<T = Abortable> = {
  readonly atMs: number
  /** Set when the deadline passed and its target was handed to the queue's action. */
  fired: boolean
  /** Null once cancelled or fired. */
  target: T | null
}

/** Cancelled entries tolerated before a sweep, beyond twice the live ones. */
const SWEEP_SLACK = 1024

export class DeadlineQueue<T = Abortable> {
  private entries: Deadline<T>[] = []
  private head = 0
  private dead = 0
  private timer: ReturnType<typeof setTimeout> | null = null

  /** `due` runs for each target whose deadline passed (deadlines() queues abort it). */
  constructor(
    readonly ms: number,
    private readonly due: (target: T) => void,
  ) {}

  /** Hands `target` to the queue's action `ms` from now unless cancelled first. */
  add(target: T): Deadline<T> {
    const d: Deadline<T> = { atMs: performance.now() + this.ms, fired: false, target }
    this.entries.push(d)
    if (this.timer === null) this.arm(d.atMs)
    return d
  }

  cancel(d: Deadline<T>): void {
    if (d.target === null) return
    d.target = null
    if (++this.dead > 2 * (this.entries.length - this.head - this.dead) + SWEEP_SLACK) this.sweep()
  }

  /** Entries not yet fired or cancelled. */
  get size(): number {
    return this.entries.length - this.head - this.dead
  }

  private arm(atMs: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, atMs - performance.now()))
    // The calls in flight keep the process alive; a deadline alone must not.
    this.timer.unref?.()
  }

  private fire(): void {
    this.timer = null
    const now = performance.now()
    const list = this.entries
    while (this.head < list.length) {
      const d = list[this.head]!
      if (d.target === null) {
        this.dead--
        this.head++
        continue
      }
      if (d.atMs > now) break
      this.head++
      const target = d.target
      d.target = null
      d.fired = true
      this.due(target)
    }
    if (this.head === list.length) {
      this.entries = []
      this.head = 0
    } else {
      if (this.head > SWEEP_SLACK && this.head * 2 > list.length) this.sweep()
      this.arm(this.entries[this.head]!.atMs)
    }
  }

  /** Drops cancelled and consumed entries; the order (and so the armed head) is unchanged. */
  private sweep(): void {
    const live: Deadline<T>[] = []
    for (let i = this.head; i < this.entries.length; i++) {
      const d = this.entries[i]!
      if (d.target !== null) live.push(d)
    }
    this.entries = live
    this.head = 0
    this.dead = 0
    // An armed timer stays: if its entry was cancelled, it finds nothing due and re-arms.
    if (live.length === 0 && this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
  }
}

const queues = new Map<number, DeadlineQueue>()
const abort = (t: Abortable) => t.abort()

/** The shared queue of `ms` milliseconds whose deadlines abort their target. */
export function deadlines(ms: number): DeadlineQueue {
  let q = queues.get(ms)
  if (!q) {
    q = new DeadlineQueue(ms, abort)
    queues.set(ms, q)
  }
  return q
}
