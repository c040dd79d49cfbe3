// A bar chart by day, stacked by series (uPlot): each bar's segments are the series' values, drawn
// tallest stack first so every segment shows; the legend and tooltip give each series' own value.
import uPlot from 'uplot'
import { useEffect, useRef } from 'preact/hooks'
import { markup } from '../markup'

export type Stack = { label: string; values: number[] }

const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
]

export function StackedBars(props: {
  /** Unix seconds of each day's start. */
  xs: number[]
  stacks: Stack[]
  format: (v: number) => string
  /** Tick labels, when the values need other precision than `format` gives. */
  axis?: (v: number) => string
  /** The legend's figure under the cursor (money in full precision). */
  legend?: (v: number) => string
  title: string
}) {
  const box = useRef<HTMLDivElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    const n = props.stacks.length
    // cum[i][j]: the sum of series 0..i on day j.
    const cum: number[][] = []
    props.stacks.forEach((s, i) =>
      cum.push(s.values.map((v, j) => v + (i > 0 ? cum[i - 1]![j]! : 0))),
    )
    const order = [...props.stacks.keys()].reverse()
    const bars = uPlot.paths.bars!({ size: [0.7, 48], align: 0 })
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 280,
      title: props.title,
      // Half a day of room each side, so the first and last bars show whole.
      scales: {
        x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.05 : 1] },
      },
      axes: [{}, { values: (_u, ticks) => ticks.map(props.axis ?? props.format), size: 80 }],
      series: [
        {
          label: 'Day',
          value: (_u, v) => (v == null ? '' : new Date(v * 1000).toISOString().slice(0, 10)),
        },
        ...order.map((i) => ({
          label: props.stacks[i]!.label,
          fill: PALETTE[i % PALETTE.length],
          stroke: PALETTE[i % PALETTE.length],
          paths: bars,
          points: { show: false },
          value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) =>
            idx == null ? '' : (props.legend ?? props.format)(props.stacks[i]!.values[idx] ?? 0),
        })),
      ],
    }
    // A day without use draws nothing (not a bar of height 0).
    const data = [
      props.xs,
      ...order.map((i) => cum[i]!.map((v) => (v > 0 ? v : null))),
    ] as uPlot.AlignedData
    const chart = n > 0 ? new uPlot(opts, data, el) : null
    const fit = new ResizeObserver(() =>
      chart?.setSize({ width: Math.max(280, el.clientWidth), height: 280 }),
    )
    fit.observe(el)
    return () => {
      fit.disconnect()
      chart?.destroy()
    }
  }, [props.xs, props.stacks, props.title])
  // What is drawn, for tests and assistive tools: the series and the days that have a bar.
  const drawn = props.xs
    .filter((_x, j) => props.stacks.some((s) => (s.values[j] ?? 0) > 0))
    .map((x) => new Date(x * 1000).toISOString().slice(0, 10))
  return markup`<figure class="chart" data-models=${props.stacks.map((s) => s.label).join(',')}
    data-days=${props.xs.length} data-drawn-days=${drawn.join(',')} aria-label=${props.title}>
    <div ref=${box}></div>
    ${props.stacks.length === 0 ? markup`<figcaption>No usage in this range.</figcaption>` : null}
  </figure>`
}
