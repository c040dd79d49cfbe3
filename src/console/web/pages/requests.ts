// Requests: the latest calls from /dashboard/x-user-requests, page by page, filtered by model
// and status; an account with a subtree may look at one of its subaccounts.
import { useState } from 'preact/hooks'
import { markup } from '../markup'
import { get, qs } from '../api'
import { int, when } from '../format'
import { me } from '../session'
import type { RequestsPage } from '../../../dashboard/requests'
import { ErrorLine, Money, Pager, useLoad } from '../parts/ui'

// The API's own answer type (a type-only import: nothing of the server reaches the bundle).
type Page = RequestsPage

const SIZE = 20

export function Requests() {
  const [page, setPage] = useState(1)
  const [model, setModel] = useState('')
  const [status, setStatus] = useState('')
  const [who, setWho] = useState('')
  const [applied, setApplied] = useState({ model: '', who: '' })
  const list = useLoad(
    () =>
      get<Page>(
        `/dashboard/x-user-requests${qs({ page, size: SIZE, model: applied.model, status, u: applied.who })}`,
      ),
    [page, applied, status],
  )
  const apply = (e: Event) => {
    e.preventDefault()
    setPage(1)
    setApplied({ model: model.trim(), who: who.trim() })
  }
  return markup`<div>
    <form class="filters" onSubmit=${apply}>
      <div class="field"><label for="r-model">Model</label>
        <input id="r-model" value=${model} placeholder="any" onInput=${(e: Event) => setModel((e.target as HTMLInputElement).value)} /></div>
      <div class="field"><label for="r-status">Status</label>
        <select id="r-status" value=${status} onChange=${(e: Event) => {
          setStatus((e.target as HTMLSelectElement).value)
          setPage(1)
        }}>
          <option value="">any</option><option value="2xx">2xx success</option><option value="4xx">4xx refused</option>
          <option value="429">429 limited</option><option value="5xx">5xx failed</option>
        </select></div>
      ${
        me.value!.Child > 0
          ? markup`<div class="field"><label for="r-who">Account (ID or Name)</label>
            <input id="r-who" value=${who} placeholder="you" onInput=${(e: Event) => setWho((e.target as HTMLInputElement).value)} /></div>`
          : null
      }
      <button type="submit">Apply</button>
    </form>
    <${ErrorLine} error=${list.error} />
    <div class="scroll"><table data-testid="requests">
      <caption>Calls of ${list.data?.account.name ?? '…'}, newest first${list.data ? ` (kept ${list.data.retention_days} days)` : ''}</caption>
      <thead><tr>
        <th scope="col">Time</th><th scope="col">Model</th><th scope="col">Prompt</th><th scope="col">Cached</th>
        <th scope="col">Completion</th><th scope="col">Cost</th><th scope="col">Status</th><th scope="col">Latency</th>
        <th scope="col">First byte</th><th scope="col">Estimated</th><th scope="col">Request id</th>
      </tr></thead>
      <tbody>
        ${(list.data?.data ?? []).map(
          (r) => markup`<tr data-request-id=${r.request_id}>
            <td>${when(r.created_at)}</td>
            <td>${r.model ?? '—'}${r.mapped_model && r.mapped_model !== r.model ? markup` <span class="meta">→ ${r.mapped_model}</span>` : null}</td>
            <td class="num">${int(r.prompt_tokens)}</td><td class="num">${int(r.cached_tokens)}</td>
            <td class="num">${int(r.completion_tokens)}</td><td class="num"><${Money} usd=${r.cost} /></td>
            <td class=${r.status >= 400 ? 'bad num' : 'num'}>${r.status}</td>
            <td class="num">${r.latency_ms === null ? '—' : `${int(r.latency_ms)} ms`}</td>
            <td class="num">${r.ttfb_ms === null ? '—' : `${int(r.ttfb_ms)} ms`}</td>
            <td>${r.estimated ? 'yes' : 'no'}</td>
            <td><code>${r.request_id}</code></td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${list.data && list.data.data.length === 0 ? markup`<p>No calls match.</p>` : null}
    <${Pager} page=${page} hasMore=${!!list.data?.has_more} onPage=${setPage} />
  </div>`
}
