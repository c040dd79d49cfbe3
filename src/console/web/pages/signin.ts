// Sign-in: an sk-Xvs… key, tried against /dashboard/x-user-info and kept for this tab only.
import { useState } from 'preact/hooks'
import { markup } from '../markup'
import { signIn } from '../session'
import { ErrorLine } from '../parts/ui'

export function SignIn() {
  const [key, setKey] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)
  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      await signIn(key)
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return markup`<main class="signin">
    <form class="card" onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">xgate console</h1>
      <p>Sign in with your xgate key. It stays in this browser tab and is forgotten when you
        sign out or close the tab.</p>
      <div class="field">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autocomplete="off"
          spellcheck=${false}
          placeholder="sk-Xvs…"
          required
          value=${key}
          onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)}
        />
      </div>
      <button type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
      <${ErrorLine} error=${error} />
    </form>
  </main>`
}
