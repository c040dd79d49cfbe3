// Small pieces every screen uses: money with its full figure in a tooltip, an error line, a
// loader hook, a labelled field, a copy button, a pager.
import { useCallback, useEffect, useState } from 'preact/hooks'
import type { ComponentChildren } from 'preact'
import { markup } from '../markup'
import { fullUsd, usd2 } from '../format'
import { ApiError } from '../api'

export function Money({ usd }: { usd: number | null | undefined }) {
  if (usd === null) return markup`<span class="money" title="no limit">unlimited</span>`
  if (usd === undefined) return markup`<span class="money">—</span>`
  return markup`<span class="money" title=${fullUsd(usd)} data-usd=${String(usd)}>${usd2(usd)}</span>`
}

/** An error in words, announced to screen readers. */
export function ErrorLine({ error }: { error: unknown }) {
  if (!error) return null
  const text = error instanceof ApiError || error instanceof Error ? error.message : String(error)
  return markup`<p class="error" role="alert">${text}</p>`
}

export function Notice({ children }: { children: ComponentChildren }) {
  return markup`<p class="notice" role="status">${children}</p>`
}

export type Loaded<T> = { data: T | null; error: unknown; loading: boolean; reload: () => void }

/** Runs `load` now and whenever `deps` change; `reload()` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  })
  const [tick, setTick] = useState(0)
  useEffect(() => {
    let live = true
    setState((s) => ({ ...s, loading: true }))
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    )
    return () => {
      live = false
    }
  }, [...deps, tick])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { ...state, reload }
}

export function Field(props: {
  label: string
  name: string
  value: string
  onInput: (v: string) => void
  type?: string
  placeholder?: string
  required?: boolean
  help?: string
  autocomplete?: string
  step?: string
}) {
  const id = `f-${props.name}`
  return markup`<div class="field">
    <label for=${id}>${props.label}</label>
    <input
      id=${id}
      name=${props.name}
      type=${props.type ?? 'text'}
      value=${props.value}
      placeholder=${props.placeholder}
      required=${props.required}
      autocomplete=${props.autocomplete ?? 'off'}
      step=${props.step}
      aria-describedby=${props.help ? `${id}-help` : undefined}
      onInput=${(e: Event) => props.onInput((e.target as HTMLInputElement).value)}
    />
    ${props.help ? markup`<small id=${`${id}-help`}>${props.help}</small>` : null}
  </div>`
}

/** A secret shown once, with a button that copies it. */
export function ShownOnce({ label, secret }: { label: string; secret: string }) {
  const [copied, setCopied] = useState('')
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret)
      setCopied('Copied.')
    } catch {
      setCopied('Copying was refused by the browser: select the key and copy it.')
    }
  }
  return markup`<div class="once" role="status">
    <p><strong>${label}</strong> It is shown this once: store it now.</p>
    <code class="secret" data-secret>${secret}</code>
    <button type="button" onClick=${copy}>Copy key</button>
    <span class="copied">${copied}</span>
  </div>`
}

export function Pager(props: {
  page: number
  hasMore: boolean
  onPage: (p: number) => void
  total?: number
}) {
  return markup`<nav class="pager" aria-label="Pages">
    <button type="button" disabled=${props.page <= 1} onClick=${() => props.onPage(props.page - 1)}>
      Previous
    </button>
    <span aria-live="polite">Page ${props.page}${props.total ? ` of ${props.total}` : ''}</span>
    <button type="button" disabled=${!props.hasMore} onClick=${() => props.onPage(props.page + 1)}>
      Next
    </button>
  </nav>`
}

/** A card with a heading; `wide` spans every column of the grid (tables that need the room). */
export function Section(props: { title: string; wide?: boolean; children: ComponentChildren }) {
  return markup`<section class=${props.wide ? 'card wide' : 'card'} aria-label=${props.title}>
    <h2>${props.title}</h2>${props.children}
  </section>`
}
