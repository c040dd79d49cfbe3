// The operation log: what you did and what was done in your subtree, newest first, page by page.
import { useState } from 'preact/hooks'
import { markup } from '../markup'
import { get, qs } from '../api'
import { ErrorLine, Pager, useLoad } from '../parts/ui'

type LogEntry = {
  id: number
  action: string
  operator_id: number
  target_id: number | null
  details: string
  status: string
  created_at: string
}
type LogPage = { logs: LogEntry[]; total: number; page: number; size: number; has_more: boolean }

const ACTIONS =
  'add_user update_user recharge deduct delete_user rotate_self rotate_root add_key update_key delete_key set_config delete_config add_news delete_news'.split(
    ' ',
  )

export function OpLog() {
  const [page, setPage] = useState(1)
  const [action, setAction] = useState('')
  const log = useLoad(
    () => get<LogPage>(`/dashboard/x-user-logs${qs({ page, size: 25, action })}`),
    [page, action],
  )
  return markup`<div>
    <div class="filters">
      <div class="field">
        <label for="log-action">Action</label>
        <select id="log-action" value=${action} onChange=${(e: Event) => {
          setAction((e.target as HTMLSelectElement).value)
          setPage(1)
        }}>
          <option value="">any</option>
          ${ACTIONS.map((a) => markup`<option value=${a}>${a}</option>`)}
        </select>
      </div>
    </div>
    <${ErrorLine} error=${log.error} />
    <div class="scroll"><table>
      <caption>Operations, newest first${log.data ? ` (${log.data.total} in all)` : ''}</caption>
      <thead><tr><th scope="col">Time</th><th scope="col">Action</th><th scope="col">What happened</th><th scope="col">By</th><th scope="col">Target</th><th scope="col">Result</th></tr></thead>
      <tbody>
        ${(log.data?.logs ?? []).map(
          (l) => markup`<tr>
            <td>${l.created_at}</td><td>${l.action}</td><td>${l.details}</td>
            <td class="num">${l.operator_id}</td><td class="num">${l.target_id ?? '—'}</td><td>${l.status}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    <${Pager} page=${page} hasMore=${!!log.data?.has_more} onPage=${setPage}
      total=${log.data ? Math.max(1, Math.ceil(log.data.total / log.data.size)) : undefined} />
  </div>`
}
