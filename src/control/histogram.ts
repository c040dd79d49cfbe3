// A fixed-bucket latency histogram for GET /metrics: O(buckets) memory whatever the traffic.

/** counts[i] = observations in (bounds[i-1], bounds[i]]; the last entry counts those above all. */
export type HistogramSnapshot = { boundsS: number[]; counts: number[]; sumS: number }

/** Upstream latency bounds in seconds: a call may stream for minutes (UPSTREAM_TIMEOUT_MS). */
export const LATENCY_BOUNDS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

export interface Histogram {
  observe(seconds: number): void
  snapshot(): HistogramSnapshot
}

export function createHistogram(boundsS: number[] = LATENCY_BOUNDS_S): Histogram {
  const bounds = [...boundsS].sort((a, b) => a - b)
  const counts = new Array<number>(bounds.length + 1).fill(0)
  let sumS = 0
  return {
    observe(seconds) {
      let i = 0
      while (i < bounds.length && seconds > bounds[i]!) i++
      counts[i]!++
      sumS += seconds
    },
    snapshot: () => ({ boundsS: [...bounds], counts: [...counts], sumS }),
  }
}
