// Subaccounts: your whole subtree (/x-dna), page by page, searched by ID, Name or Email; a form
// that creates a direct child (its key shown once); and the account picked, managed below.
import { useState } from 'preact/hooks'
import { markup } from '../markup'
import { post, qs, request } from '../api'
import { refreshMe } from '../session'
import { ErrorLine, Field, Money, Notice, Pager, Section, ShownOnce, useLoad } from '../parts/ui'
import { Manage, type Sub } from './subaccount'

const SIZE = 25

function searchQuery(text: string): Record<string, string> {
  const t = text.trim()
  if (!t) return {}
  if (/^\d+$/.test(t)) return { id: t }
  if (t.includes('@')) return { email: t }
  return { name: t }
}

function Create({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('')
  const [email, setEmail] = useState('')
  const [credit, setCredit] = useState('')
  const [days, setDays] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [made, setMade] = useState<{ name: string; key: string } | null>(null)
  const submit = async (e: Event) => {
    e.preventDefault()
    setError(null)
    setMade(null)
    try {
      const body: Record<string, unknown> = {
        Name: name.trim(),
        Email: email.trim(),
        CreditGranted: Number(credit),
      }
      if (days) body.Days = Number(days)
      const r = await post<{ User: { Name: string; SecretKey: string } }>('/x-users', body)
      setMade({ name: r.User.Name, key: r.User.SecretKey })
      setName('')
      setEmail('')
      setCredit('')
      await refreshMe()
      onCreated()
    } catch (err) {
      setError(err)
    }
  }
  return markup`<form class="form" onSubmit=${submit} aria-label="Create a subaccount">
    <${Field} label="Name" name="new-name" value=${name} onInput=${setName} required help="4–63 characters, at least one letter." />
    <${Field} label="Email" name="new-email" type="email" value=${email} onInput=${setEmail} required />
    <${Field} label="Credit (USD)" name="new-credit" type="number" step="0.01" value=${credit} onInput=${setCredit} required
      help="Paid from your balance, converted by your Rates and its Rates." />
    <${Field} label="Valid for (days)" name="new-days" type="number" value=${days} onInput=${setDays} help="1–365; default 365." />
    <button type="submit">Create subaccount</button>
    <${ErrorLine} error=${error} />
    ${made ? markup`<${ShownOnce} label=${`The key of ${made.name}.`} secret=${made.key} />` : null}
  </form>`
}

export function Subaccounts() {
  const [page, setPage] = useState(1)
  const [text, setText] = useState('')
  const [search, setSearch] = useState('')
  const [picked, setPicked] = useState<string | null>(null)
  const [gone, setGone] = useState('')
  const list = useLoad(async () => {
    const r = await request<Sub[]>(
      'GET',
      `/x-dna${qs({ page, size: SIZE, ...searchQuery(search) })}`,
    )
    return {
      users: r.body,
      pages: Number(r.headers.get('x-total-pages') ?? 1),
      total: Number(r.headers.get('x-total-count') ?? r.body.length),
    }
  }, [page, search])
  return markup`<div class="grid">
    <${Section} title="Your subtree" wide>
      <form class="filters" onSubmit=${(e: Event) => {
        e.preventDefault()
        setPage(1)
        setSearch(text)
      }}>
        <${Field} label="Find (ID, Name or Email)" name="sub-search" value=${text} onInput=${setText} />
        <button type="submit">Search</button>
      </form>
      <${ErrorLine} error=${list.error} />
      <div class="scroll"><table data-testid="subaccounts">
        <caption>${list.data ? `${list.data.total} account${list.data.total === 1 ? '' : 's'}` : '…'}</caption>
        <thead><tr><th scope="col">ID</th><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Balance</th>
          <th scope="col">Status</th><th scope="col">DNA</th><th scope="col"><span class="sr">Actions</span></th></tr></thead>
        <tbody>${(list.data?.users ?? []).map(
          (u) => markup`<tr data-name=${u.Name}>
            <td class="num">${u.ID}</td><td>${u.Name}</td><td>${u.Email}</td>
            <td class="num"><${Money} usd=${u.Balance} /></td><td>${u.Status ? 'enabled' : 'disabled'}</td><td><code>${u.DNA}</code></td>
            <td><button type="button" onClick=${() => {
              setPicked(u.Name)
              setGone('')
            }} aria-label=${`Manage ${u.Name}`}>Manage</button></td>
          </tr>`,
        )}</tbody>
      </table></div>
      <${Pager} page=${page} hasMore=${!!list.data && page < list.data.pages} onPage=${setPage}
        total=${list.data?.pages} />
    <//>
    ${gone ? markup`<div class="wide"><${Notice}>${gone}<//></div>` : null}
    ${
      picked
        ? markup`<${Manage} key=${picked} name=${picked} onChanged=${list.reload}
          onGone=${(said: string) => {
            setPicked(null)
            setGone(said)
            list.reload()
          }} />`
        : null
    }
    <${Section} title="Create a subaccount">
      <${Create} onCreated=${list.reload} />
    <//>
  </div>`
}
