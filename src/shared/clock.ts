// Time comes through a Clock so windows, expiry, sleep and failover can be tested without sleeping.
// All times are unix milliseconds.

export interface Clock {
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }

export type FakeClock = Clock & { set(ms: number): void; advance(ms: number): void }

export function createFakeClock(startMs = Date.UTC(2026, 0, 15, 12, 0, 0)): FakeClock {
  let t = startMs
  return {
    now: () => t,
    set: (ms) => {
      t = ms
    },
    advance: (ms) => {
      t += ms
    },
  }
}
