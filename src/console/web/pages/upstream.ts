// Upstream keys (root): the provider keys in the pool with their live state (active, sleeping
// until, disabled: reason), calls in flight and counters; add, switch off or on, remove.
import { useState } from 'preact/hooks'
import { markup } from '../markup'
import { del, get, post, put, seg } from '../api'
import { int, when } from '../format'
import { ErrorLine, Field, Notice, Section, useLoad } from '../parts/ui'

type Key = {
  ID: number
  Name: string
  SecretKey: string
  Level: number
  Provider: string
  Type: string
  Status: boolean
  Weight: number
  Concurrency: number
  InFlight: number
  State: string
  SleepUntil: string | null
  DisabledReason: string | null
  Requests: number
  Errors: number
}

const stateText = (k: Key) =>
  k.State === 'sleeping'
    ? `sleeping until ${k.SleepUntil ? when(k.SleepUntil) : '?'}`
    : k.State === 'disabled'
      ? `disabled: ${k.DisabledReason ?? 'switched off'}`
      : 'active'

function AddKey({ onAdded }: { onAdded: () => void }) {
  const [f, setF] = useState({
    SecretKey: '',
    Provider: '',
    Name: '',
    Level: '1',
    Weight: '1',
    Concurrency: '0',
    Type: '',
  })
  const [error, setError] = useState<unknown>(null)
  const set = (k: keyof typeof f) => (v: string) => setF({ ...f, [k]: v })
  const submit = async (e: Event) => {
    e.preventDefault()
    setError(null)
    try {
      const body: Record<string, unknown> = {
        SecretKey: f.SecretKey.trim(),
        Provider: f.Provider.trim(),
        Level: Number(f.Level),
        Weight: Number(f.Weight),
        Concurrency: Number(f.Concurrency),
      }
      if (f.Name.trim()) body.Name = f.Name.trim()
      if (f.Type) body.Type = f.Type
      await post('/x-keys', body)
      setF({ ...f, SecretKey: '', Name: '' })
      onAdded()
    } catch (err) {
      setError(err)
    }
  }
  return markup`<form class="form cols" onSubmit=${submit} aria-label="Add an upstream key">
    <${Field} label="Secret" name="key-secret" type="password" value=${f.SecretKey} onInput=${set('SecretKey')} required />
    <${Field} label="Provider base URL" name="key-provider" value=${f.Provider} onInput=${set('Provider')} required placeholder="https://api.openai.com" />
    <${Field} label="Name" name="key-name" value=${f.Name} onInput=${set('Name')} />
    <div class="field"><label for="key-type">Type</label>
      <select id="key-type" value=${f.Type} onChange=${(e: Event) => set('Type')((e.target as HTMLSelectElement).value)}>
        <option value="">from the URL</option><option value="openai">openai</option><option value="anthropic">anthropic</option>
      </select></div>
    <${Field} label="Level (0–10)" name="key-level" type="number" value=${f.Level} onInput=${set('Level')} />
    <${Field} label="Weight" name="key-weight" type="number" value=${f.Weight} onInput=${set('Weight')} />
    <${Field} label="Concurrency (0 = unlimited)" name="key-concurrency" type="number" value=${f.Concurrency} onInput=${set('Concurrency')} />
    <button type="submit">Add key</button>
    <${ErrorLine} error=${error} />
  </form>`
}

export function Upstream() {
  const keys = useLoad(() => get<Key[]>('/x-keys'), [])
  const [error, setError] = useState<unknown>(null)
  const [done, setDone] = useState('')
  const act = async (what: () => Promise<unknown>, said: string) => {
    setError(null)
    setDone('')
    try {
      await what()
      setDone(said)
      keys.reload()
    } catch (err) {
      setError(err)
    }
  }
  return markup`<div class="grid">
    <${Section} title="Pool" wide>
      <${ErrorLine} error=${keys.error ?? error} />
      ${done ? markup`<${Notice}>${done}<//>` : null}
      <div class="scroll"><table data-testid="upstream-keys">
        <caption>Provider keys</caption>
        <thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col">Provider</th><th scope="col">Level</th>
          <th scope="col">State</th><th scope="col">In flight</th><th scope="col">Requests</th><th scope="col">Errors</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>${(keys.data ?? []).map(
          (k) => markup`<tr data-key-id=${k.ID} data-state=${k.State}>
            <td class="num">${k.ID}</td><td>${k.Name}<br /><code class="meta">${k.SecretKey}</code></td>
            <td>${k.Provider}<br /><span class="meta">${k.Type}</span></td><td class="num">${k.Level}</td>
            <td>${stateText(k)}</td><td class="num">${int(k.InFlight)}${k.Concurrency ? ` / ${k.Concurrency}` : ''}</td>
            <td class="num">${int(k.Requests)}</td><td class="num">${int(k.Errors)}</td>
            <td class="actions">
              <button type="button" aria-label=${`${k.Status ? 'Disable' : 'Enable'} key ${k.Name}`}
                onClick=${() => act(() => put(`/x-keys/${seg(k.ID)}`, { Status: !k.Status }), `${k.Name} ${k.Status ? 'disabled' : 'enabled'}.`)}>
                ${k.Status ? 'Disable' : 'Enable'}</button>
              <button type="button" class="danger" aria-label=${`Remove key ${k.Name}`}
                onClick=${() => confirm(`Remove ${k.Name} from the pool?`) && act(() => del(`/x-keys/${seg(k.ID)}`), `${k.Name} removed.`)}>
                Remove</button>
            </td>
          </tr>`,
        )}</tbody>
      </table></div>
      <button type="button" onClick=${keys.reload}>Refresh</button>
    <//>
    <${Section} title="Add a key"><${AddKey} onAdded=${keys.reload} /><//>
  </div>`
}
