// One subaccount, managed: fund or deduct, edit its limits and lists (the -x, *, -* language),
// disable or enable it, delete it after a confirmation that shows the refund you would get.
import { useEffect, useRef, useState } from 'preact/hooks'
import { markup } from '../markup'
import { del, get, put, seg } from '../api'
import { usd2 } from '../format'
import { me, refreshMe } from '../session'
import { ErrorLine, Field, Money, Notice, Section, useLoad } from '../parts/ui'

export type Sub = {
  ID: number
  Name: string
  Email: string
  DNA: string
  Status: boolean
  Balance: number | null
  Rates: number
  Child: number
  HardLimit: number
  SoftLimit: number
  RPM: number
  RPH: number
  RPD: number
  TPM: number
  TPH: number
  TPD: number
  Concurrency: number
  AllowModels: string
  AllowIPs: string
  AllowLevels: string
  Resources: string
}
type Updated = {
  Parent: { Balance: number | null }
  User: { Updates: { Balance?: number | null } }
}

const NUMBERS = [
  'HardLimit',
  'SoftLimit',
  'RPM',
  'RPH',
  'RPD',
  'TPM',
  'TPH',
  'TPD',
  'Concurrency',
] as const
const LISTS = ['AllowModels', 'AllowIPs', 'AllowLevels', 'Resources'] as const
const DELETE_FEE_USD = 0.2

export function Manage(props: {
  name: string
  onChanged: () => void
  onGone: (said: string) => void
}) {
  const sub = useLoad(() => get<Sub>(`/x-users/${seg(props.name)}`), [props.name])
  const [amount, setAmount] = useState('')
  const [edits, setEdits] = useState<Record<string, string>>({})
  const [error, setError] = useState<unknown>(null)
  const [done, setDone] = useState('')
  const [confirming, setConfirming] = useState(false)
  // The confirmation takes the focus when it opens, so the keyboard lands on its choice.
  const confirmButton = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    if (confirming) confirmButton.current?.focus()
  }, [confirming])
  const s = sub.data
  if (!s)
    return markup`<${Section} title=${`Manage ${props.name}`}><${ErrorLine} error=${sub.error} /><p>…</p><//>`
  const path = `/x-users/${seg(s.ID)}`
  const act = async (what: () => Promise<string>) => {
    setError(null)
    setDone('')
    try {
      setDone(await what())
      await refreshMe()
      sub.reload()
      props.onChanged()
    } catch (err) {
      setError(err)
    }
  }
  const fund = (e: Event) => {
    e.preventDefault()
    const x = Number(amount)
    act(async () => {
      const r = await put<Updated>(path, { CreditGranted: x })
      setAmount('')
      const verb = x >= 0 ? 'Funded' : 'Deducted'
      return `${verb} ${usd2(Math.abs(x))}: ${s.Name} now has ${usd2(r.User.Updates.Balance ?? 0)}; you have ${r.Parent.Balance === null ? 'unlimited' : usd2(r.Parent.Balance)}.`
    })
  }
  const save = (e: Event) => {
    e.preventDefault()
    const body: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(edits))
      body[k] = (NUMBERS as readonly string[]).includes(k) ? Number(v) : v
    act(async () => {
      await put(path, body)
      setEdits({})
      return `Saved ${Object.keys(body).join(', ')}.`
    })
  }
  const toggle = () =>
    act(async () => {
      await put(path, { Status: !s.Status })
      return s.Status ? `${s.Name} is disabled (its subtree with it).` : `${s.Name} is enabled.`
    })
  // The panel closes with the account: the list above says what happened.
  const remove = async () => {
    setError(null)
    try {
      const r = await del<{ Parent: { Balance: number | null } }>(path)
      await refreshMe()
      props.onGone(
        `Deleted ${s.Name}. Your balance: ${r.Parent.Balance === null ? 'unlimited' : usd2(r.Parent.Balance)}.`,
      )
    } catch (err) {
      setError(err)
    }
  }
  const myRates = me.value!.Rates
  const refund = Math.max(0, ((s.Balance ?? 0) * myRates) / s.Rates - DELETE_FEE_USD)
  const value = (k: string) =>
    edits[k] ?? String((s as unknown as Record<string, unknown>)[k] ?? '')
  const edit = (k: string) => (v: string) => setEdits({ ...edits, [k]: v })

  return markup`<${Section} title=${`Manage ${s.Name}`} wide>
    <p>Balance <${Money} usd=${s.Balance} /> · Rates ${s.Rates} · ${s.Status ? 'enabled' : 'disabled'} · ${s.Child} direct subaccounts</p>
    <${ErrorLine} error=${error} />
    ${done ? markup`<${Notice}>${done}<//>` : null}
    <form class="form" onSubmit=${fund} aria-label=${`Fund or deduct ${s.Name}`}>
      <${Field} label="Fund (+) or deduct (−), USD" name="fund-amount" type="number" step="0.01" value=${amount} onInput=${setAmount} required
        help=${`Funding costs you the amount × your Rates ÷ its Rates; a deduction comes back to you the same way, less $0.20.`} />
      <button type="submit">${Number(amount) < 0 ? 'Deduct' : 'Fund'}</button>
    </form>
    <form class="form cols" onSubmit=${save} aria-label=${`Limits and lists of ${s.Name}`}>
      ${NUMBERS.map(
        (
          k,
        ) => markup`<${Field} label=${k} name=${`edit-${k}`} type="number" value=${value(k)} onInput=${edit(k)}
        help=${k.endsWith('Limit') ? 'USD per month' : '0 = unlimited'} />`,
      )}
      ${LISTS.map(
        (k) => markup`<${Field} label=${k} name=${`edit-${k}`} value=${value(k)} onInput=${edit(k)}
        help='"a b" adds, "-a" removes, "*" unrestricted, "-*" nothing' />`,
      )}
      <button type="submit" disabled=${Object.keys(edits).length === 0}>Save changes</button>
    </form>
    <div class="actions">
      <button type="button" onClick=${toggle}>${s.Status ? 'Disable' : 'Enable'}</button>
      <button type="button" class="danger" onClick=${() => setConfirming(true)}>Delete…</button>
    </div>
    ${
      confirming
        ? markup`<div class="confirm" role="alertdialog" aria-labelledby="del-title" aria-describedby="del-text">
          <h3 id="del-title">Delete ${s.Name}?</h3>
          <p id="del-text">Its key stops working at once${s.Child ? ` and its ${s.Child} direct subaccounts go with it` : ''}.
            You get back about <strong data-testid="refund">${usd2(refund)}</strong> (its balance converted to your units, less the $0.20 fee)${s.Child ? ', plus what its subaccounts hold, refunded the same way' : ''}.</p>
          <button type="button" class="danger" ref=${confirmButton} onClick=${() => {
            setConfirming(false)
            remove()
          }}>Delete ${s.Name}</button>
          <button type="button" onClick=${() => setConfirming(false)}>Cancel</button>
        </div>`
        : null
    }
  <//>`
}
