// Keys: rotate your own key with the dated confirmation xgate asks for (POST /x-self). The new
// key is shown once; this tab goes on with it, and the old key stops working at once.
import { useState } from 'preact/hooks'
import { markup } from '../markup'
import { post, setKey } from '../api'
import { todayUtc } from '../format'
import { me, refreshMe } from '../session'
import { ErrorLine, Section, ShownOnce } from '../parts/ui'

type Rotated = { rotate: { key: string; name: string } }

export function Keys() {
  const phrase = `${todayUtc()}-ROTATE-SELF`
  const [typed, setTyped] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [fresh, setFresh] = useState('')
  const rotate = async (e: Event) => {
    e.preventDefault()
    setError(null)
    try {
      const r = await post<Rotated>('/x-self', { confirm: typed.trim() })
      setKey(r.rotate.key)
      setFresh(r.rotate.key)
      setTyped('')
      await refreshMe()
    } catch (err) {
      setError(err)
    }
  }
  return markup`<div class="grid">
    <${Section} title="Your key">
      <p>The key ends in <code data-testid="partial-key">${me.value!.PartialKey}</code>.</p>
      ${fresh ? markup`<${ShownOnce} label="Your new key." secret=${fresh} />` : null}
    <//>
    <${Section} title="Rotate your key">
      <form class="form" onSubmit=${rotate}>
        <p>A new key replaces this one at once: every client still using the old key is refused.
          Type <code>${phrase}</code> to confirm.</p>
        <div class="field">
          <label for="rotate-confirm">Confirmation</label>
          <input id="rotate-confirm" autocomplete="off" value=${typed} placeholder=${phrase}
            onInput=${(e: Event) => setTyped((e.target as HTMLInputElement).value)} />
        </div>
        <button type="submit" class="danger" disabled=${typed.trim() !== phrase}>Rotate key</button>
        <${ErrorLine} error=${error} />
      </form>
    <//>
  </div>`
}
