// Config (root): the /x-config keys with their values and where each comes from; a change is
// validated by xgate and its error shown in words; Reset goes back to the environment default.
import { useState } from 'preact/hooks'
import { markup } from '../markup'
import { del, get, post } from '../api'
import { ErrorLine, Notice, Section, useLoad } from '../parts/ui'

type View = { configs: Record<string, string>; sources: Record<string, string> }

/** JSON-looking text is sent as JSON (MODEL_LIMITS, MODEL_PRICES), anything else as text. */
function valueOf(text: string): unknown {
  const t = text.trim()
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return JSON.parse(t)
    } catch {
      return t
    }
  }
  return t
}

function Row({
  name,
  value,
  source,
  onDone,
}: {
  name: string
  value: string
  source: string
  onDone: () => void
}) {
  const [text, setText] = useState(value)
  const [error, setError] = useState<unknown>(null)
  const [done, setDone] = useState('')
  const id = `cfg-${name}`
  const run = async (what: () => Promise<unknown>, said: string) => {
    setError(null)
    setDone('')
    try {
      await what()
      setDone(said)
      onDone()
    } catch (err) {
      setError(err)
    }
  }
  return markup`<div class="cfg" data-config=${name}>
    <label for=${id}>${name} <span class="meta">(${source})</span></label>
    <textarea id=${id} rows="2" value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea>
    <div class="actions">
      <button type="button" onClick=${() => run(() => post('/x-config', { [name]: valueOf(text) }), `${name} saved and applied.`)}>Save ${name}</button>
      <button type="button" onClick=${() => run(() => del('/x-config', { keys: [name] }), `${name} is back to its default.`)}>Reset</button>
    </div>
    <${ErrorLine} error=${error} />
    ${done ? markup`<${Notice}>${done}<//>` : null}
  </div>`
}

export function Config() {
  const view = useLoad(() => get<View>('/x-config'), [])
  return markup`<${Section} title="Global settings">
    <${ErrorLine} error=${view.error} />
    <p class="meta">Secrets are shown masked. Changes apply at once, without a restart.</p>
    ${
      view.data
        ? Object.keys(view.data.sources).map(
            (k) =>
              markup`<${Row} key=${k} name=${k} value=${view.data!.configs[k] ?? ''} source=${view.data!.sources[k]!} onDone=${view.reload} />`,
          )
        : markup`<p>…</p>`
    }
  <//>`
}
