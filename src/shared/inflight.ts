// Counts calls in flight (including streams whose body is still flowing) so a graceful stop can
// wait for them and the control API can report them.

export type InFlight = {
  /** Marks one call started; the returned function marks it done (idempotent). */
  begin(): () => void
  count(): number
  /** Resolves when nothing is in flight. */
  idle(): Promise<void>
}

export function createInFlight(): InFlight {
  let n = 0
  let waiters: Array<() => void> = []
  return {
    begin() {
      n++
      let done = false
      return () => {
        if (done) return
        done = true
        if (--n === 0) {
          const w = waiters
          waiters = []
          for (const f of w) f()
        }
      }
    },
    count: () => n,
    idle: () => (n === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  }
}
