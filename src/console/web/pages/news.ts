// News: what xgate and your parent announced to you, and (for any account with a subtree) a form
// to post to one child or a DNA group; root posts system news with no target.
import { useState } from 'preact/hooks'
import { markup } from '../markup'
import { get, post, seg } from '../api'
import { day } from '../format'
import { isRoot } from '../session'
import { ErrorLine, Field, Notice, Section, useLoad } from '../parts/ui'

export type NewsItem = {
  id: number
  title: string
  content: string
  target: string | null
  created_at: string
  expires_at: string
}
export type NewsAnswer = { system_news: NewsItem[]; user_news: NewsItem[] }

export function NewsList({ news }: { news: NewsAnswer }) {
  const items = [
    ...news.system_news.map((n) => ({ ...n, scope: 'system' })),
    ...news.user_news.map((n) => ({ ...n, scope: 'for you' })),
  ]
  if (items.length === 0) return markup`<p>No news.</p>`
  return markup`<ul class="news">
    ${items.map(
      (n) => markup`<li>
        <h3>${n.title}</h3>
        <p class="meta">${n.scope} · ${day(n.created_at)} · until ${day(n.expires_at)}</p>
        <p>${n.content}</p>
      </li>`,
    )}
  </ul>`
}

function PostNews({ onPosted }: { onPosted: () => void }) {
  const [target, setTarget] = useState('')
  const [title, setTitle] = useState('')
  const [content, setContent] = useState('')
  const [days, setDays] = useState('')
  const [error, setError] = useState<unknown>(null)
  const [done, setDone] = useState('')
  const submit = async (e: Event) => {
    e.preventDefault()
    setError(null)
    setDone('')
    try {
      const body = { title, content, ...(days ? { days: Number(days) } : {}) }
      await post(target ? `/x-news/${seg(target)}` : '/x-news', body)
      setDone(target ? `Posted to ${target}.` : 'Posted to everyone.')
      setTitle('')
      setContent('')
      onPosted()
    } catch (err) {
      setError(err)
    }
  }
  return markup`<form onSubmit=${submit} class="form">
    <${Field} label="To (ID, Name or DNA group)" name="news-target" value=${target} onInput=${setTarget}
      required=${!isRoot.value} help=${isRoot.value ? 'Empty: system news for every account.' : 'A child or a DNA group in your subtree.'} />
    <${Field} label="Title" name="news-title" value=${title} onInput=${setTitle} required />
    <div class="field">
      <label for="news-content">Text</label>
      <textarea id="news-content" required value=${content}
        onInput=${(e: Event) => setContent((e.target as HTMLTextAreaElement).value)}></textarea>
    </div>
    <${Field} label="Days shown" name="news-days" type="number" value=${days} onInput=${setDays}
      help="Default 7 for system news, 32 for targeted news." />
    <button type="submit">Post</button>
    <${ErrorLine} error=${error} />
    ${done ? markup`<${Notice}>${done}<//>` : null}
  </form>`
}

export function News() {
  const news = useLoad(() => get<NewsAnswer>('/dashboard/x-user-news'), [])
  return markup`<div class="grid">
    <${Section} title="Your news">
      <${ErrorLine} error=${news.error} />
      ${news.data ? markup`<${NewsList} news=${news.data} />` : markup`<p>…</p>`}
    <//>
    <${Section} title="Post news">
      <${PostNews} onPosted=${news.reload} />
    <//>
  </div>`
}
