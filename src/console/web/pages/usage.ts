// Usage: a chart by day stacked by model (cost, tokens or requests) over a chosen range, the
// table by model, and a CSV of what is shown. Your own from /dashboard/bill; a subaccount's (or
// all of them) from /x-bill.
import { useMemo, useState } from 'preact/hooks'
import { markup } from '../markup'
import { get, qs } from '../api'
import { csv, download, fullUsd, int, usd2 } from '../format'
import { me } from '../session'
import { StackedBars } from '../parts/chart'
import { ErrorLine, Money, useLoad } from '../parts/ui'

type ModelUsage = {
  requests: number
  prompt: number
  completion: number
  cached: number
  cost: number
}
type Report = {
  data: Array<{ aggregation_timestamp: number; usage_details: Record<string, ModelUsage> }>
  total_usage: { requests: number; cost: number }
}
type Metric = 'cost' | 'tokens' | 'requests'

/** Axis ticks of small amounts keep three significant digits ($0.000123), larger ones two decimals. */
const usdTick = (v: number) =>
  v !== 0 && Math.abs(v) < 0.01 ? `$${Number(v.toPrecision(3))}` : usd2(v)

const METRICS: Record<
  Metric,
  {
    label: string
    of: (m: ModelUsage) => number
    format: (v: number) => string
    axis?: (v: number) => string
  }
> = {
  cost: { label: 'Cost (USD)', of: (m) => m.cost, format: usd2, axis: usdTick },
  tokens: { label: 'Tokens', of: (m) => m.prompt + m.completion, format: int },
  requests: { label: 'Requests', of: (m) => m.requests, format: int },
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10)
const daysAgo = (n: number) => isoDay(new Date(Date.now() - n * 86_400_000))

export function Usage() {
  const [start, setStart] = useState(daysAgo(29))
  const [end, setEnd] = useState(daysAgo(0))
  const [metric, setMetric] = useState<Metric>('cost')
  const [who, setWho] = useState('')
  const children = useLoad(
    () =>
      me.value!.Child > 0
        ? get<Array<{ ID: number; Name: string }>>('/x-dna?size=100')
        : Promise.resolve([]),
    [],
  )
  const report = useLoad(
    () =>
      who === ''
        ? get<Report>(`/dashboard/bill${qs({ s: start, e: end })}`)
        : get<Report>(`/x-bill${qs({ u: who === '*' ? undefined : who, s: start, e: end })}`),
    [start, end, who],
  )
  const view = useMemo(() => {
    const rows = report.data?.data ?? []
    const models = [...new Set(rows.flatMap((r) => Object.keys(r.usage_details)))].sort()
    const of = METRICS[metric].of
    const stacks = models.map((m) => ({
      label: m,
      values: rows.map((r) => (r.usage_details[m] ? of(r.usage_details[m]!) : 0)),
    }))
    const totals = models.map((m) => {
      const t = { model: m, requests: 0, prompt: 0, completion: 0, cached: 0, cost: 0 }
      for (const r of rows) {
        const u = r.usage_details[m]
        if (!u) continue
        t.requests += u.requests
        t.prompt += u.prompt
        t.completion += u.completion
        t.cached += u.cached
        t.cost += u.cost
      }
      return t
    })
    return { xs: rows.map((r) => r.aggregation_timestamp), stacks, totals, rows, models }
  }, [report.data, metric])

  const exportCsv = () => {
    const lines: Array<Array<string | number>> = [
      [
        'day',
        'model',
        'requests',
        'prompt_tokens',
        'completion_tokens',
        'cached_tokens',
        'cost_usd',
      ],
    ]
    for (const r of view.rows)
      for (const [m, u] of Object.entries(r.usage_details))
        lines.push([
          isoDay(new Date(r.aggregation_timestamp * 1000)),
          m,
          u.requests,
          u.prompt,
          u.completion,
          u.cached,
          u.cost,
        ])
    download(`xgate-usage-${who || 'me'}-${start}-${end}.csv`, csv(lines))
  }

  return markup`<div>
    <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
      <div class="field"><label for="u-start">From</label>
        <input id="u-start" type="date" value=${start} max=${end} onChange=${(e: Event) => setStart((e.target as HTMLInputElement).value)} /></div>
      <div class="field"><label for="u-end">To</label>
        <input id="u-end" type="date" value=${end} min=${start} onChange=${(e: Event) => setEnd((e.target as HTMLInputElement).value)} /></div>
      ${
        me.value!.Child > 0
          ? markup`<div class="field"><label for="u-who">Account</label>
            <select id="u-who" value=${who} onChange=${(e: Event) => setWho((e.target as HTMLSelectElement).value)}>
              <option value="">you</option>
              <option value="*">all your subaccounts</option>
              ${(children.data ?? []).map((c) => markup`<option value=${c.Name}>${c.Name}</option>`)}
            </select></div>`
          : null
      }
      <fieldset class="metric">
        <legend>Show</legend>
        ${(Object.keys(METRICS) as Metric[]).map(
          (m) => markup`<label><input type="radio" name="metric" value=${m} checked=${metric === m}
            onChange=${() => setMetric(m)} /> ${m}</label>`,
        )}
      </fieldset>
      <button type="button" onClick=${exportCsv} disabled=${!report.data}>Export CSV</button>
    </form>
    <${ErrorLine} error=${report.error} />
    ${
      report.data
        ? markup`<${StackedBars} xs=${view.xs} stacks=${view.stacks} format=${METRICS[metric].format}
          axis=${METRICS[metric].axis} legend=${metric === 'cost' ? fullUsd : undefined} title=${`${METRICS[metric].label} by day and model`} />
        <p>Total: <${Money} usd=${report.data.total_usage.cost} /> in ${int(report.data.total_usage.requests)} requests</p>
        <div class="scroll"><table data-testid="usage-by-model">
          <caption>By model, ${start} to ${end}</caption>
          <thead><tr><th scope="col">Model</th><th scope="col">Requests</th><th scope="col">Prompt</th><th scope="col">Cached</th><th scope="col">Completion</th><th scope="col">Cost</th></tr></thead>
          <tbody>${view.totals.map(
            (
              t,
            ) => markup`<tr><th scope="row">${t.model}</th><td class="num">${int(t.requests)}</td><td class="num">${int(t.prompt)}</td>
              <td class="num">${int(t.cached)}</td><td class="num">${int(t.completion)}</td><td class="num"><${Money} usd=${t.cost} /></td></tr>`,
          )}</tbody>
        </table></div>`
        : markup`<p>Loading…</p>`
    }
  </div>`
}
