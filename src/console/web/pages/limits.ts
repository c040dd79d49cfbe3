// Limits: each window's limit and current use (RPM…TPD, Concurrency, ModelLimits), your access
// lists as xgate reads them back, and the models your key can call (GET /v1/models).
import { markup } from '../markup'
import { get } from '../api'
import { int } from '../format'
import { refreshMe, type Use } from '../session'
import { ErrorLine, Section, useLoad } from '../parts/ui'

const WINDOWS = ['RPM', 'RPH', 'RPD', 'TPM', 'TPH', 'TPD', 'Concurrency'] as const
const MEANING: Record<string, string> = {
  RPM: 'requests per minute',
  RPH: 'requests per hour',
  RPD: 'requests per day',
  TPM: 'tokens per minute',
  TPH: 'tokens per hour',
  TPD: 'tokens per day',
  Concurrency: 'calls in flight at once',
}

function UseRow({ name, use, meaning }: { name: string; use: Use; meaning: string }) {
  const id = `use-${name.replace(/\W/g, '_')}`
  return markup`<tr data-window=${name}>
    <th scope="row">${name}<br /><span class="meta">${meaning}</span></th>
    <td class="num">${use.limit ? int(use.limit) : 'unlimited'}</td>
    <td class="num">${int(use.used)}</td>
    <td>${
      use.limit
        ? markup`<meter id=${id} aria-label=${`${name} used`} min="0" max=${use.limit} value=${Math.min(use.used, use.limit)} high=${use.limit * 0.8}></meter>`
        : '—'
    }</td>
  </tr>`
}

export function Limits() {
  const info = useLoad(() => refreshMe(), [])
  const models = useLoad(() => get<{ data: Array<{ id: string }> }>('/v1/models'), [])
  const i = info.data
  if (!i) return markup`<${ErrorLine} error=${info.error} /><p>…</p>`
  return markup`<div class="grid">
    <${Section} title="Rate limits">
      <div class="scroll"><table data-testid="limits">
        <caption>Your windows (your subaccounts' calls count in them too)</caption>
        <thead><tr><th scope="col">Limit</th><th scope="col">Set to</th><th scope="col">Used now</th><th scope="col">Use</th></tr></thead>
        <tbody>${WINDOWS.map((w) => markup`<${UseRow} name=${w} use=${i.LimitUse[w]} meaning=${MEANING[w]} />`)}</tbody>
      </table></div>
    <//>
    <${Section} title="Model limits">
      ${
        Object.keys(i.LimitUse.ModelLimits).length === 0
          ? markup`<p>No per-model limits.</p>`
          : markup`<div class="scroll"><table>
            <caption>Per model pattern (yours over the global MODEL_LIMITS)</caption>
            <thead><tr><th scope="col">Limit</th><th scope="col">Set to</th><th scope="col">Used now</th><th scope="col">Use</th></tr></thead>
            <tbody>${Object.entries(i.LimitUse.ModelLimits).flatMap(([p, m]) => [
              markup`<${UseRow} name=${`${p} rpm`} use=${m.rpm} meaning=${`requests per minute (${m.source})`} />`,
              markup`<${UseRow} name=${`${p} tpm`} use=${m.tpm} meaning=${`tokens per minute (${m.source})`} />`,
            ])}</tbody>
          </table></div>`
      }
    <//>
    <${Section} title="Access lists">
      <dl class="lists">
        <dt>Models</dt><dd><code>${i.AllowModels}</code></dd>
        <dt>Client addresses</dt><dd><code>${i.AllowIPs}</code></dd>
        <dt>Key levels</dt><dd><code>${i.AllowLevels}</code></dd>
        <dt>API paths</dt><dd><code>${i.Resources}</code></dd>
      </dl>
      <p class="meta">"*" is unrestricted, "-*" nothing, "a b" only these, "* -a" all but a. Your parent's lists narrow yours.</p>
    <//>
    <${Section} title="Models you can call">
      <${ErrorLine} error=${models.error} />
      ${
        models.data
          ? markup`<ul class="chips" data-testid="models">${models.data.data.map((m) => markup`<li>${m.id}</li>`)}</ul>`
          : markup`<p>…</p>`
      }
    <//>
  </div>`
}
