// News (§3, §7.4): system news by root (7 days by default), targeted news by root or an ancestor
// of the target (32 days), and what one account reads: unexpired system news and the items aimed
// at it or at a DNA group that holds it. Every write lands in the operation log.
import type { Account } from '../accounts/repo'
import type { SqlDb } from '../db/sql'
import { createOpLogRepo } from '../logs/repo'
import { findAccount, inSubtree, notFound, parseIdent, type AccountLookup } from '../reports/ident'
import type { Clock } from '../shared/clock'
import { AppError } from '../shared/errors'
import { createNewsRepo, type NewsRow } from './repo'

const DAY_MS = 86_400_000
export const SYSTEM_DAYS = 7
export const TARGETED_DAYS = 32
export const MAX_DAYS = 365

export type NewsBody = { title: string; content: string; days?: number }
export type NewsItem = {
  id: number
  title: string
  content: string
  /** null for system news; an account ID, or a DNA for a group. */
  target: string | null
  created_at: string
  expires_at: string
}

const iso = (ms: number) => new Date(ms).toISOString()
const bad = (param: string, why: string) =>
  new AppError('bad_request', `${param}: ${why}`, { param })

export function newsItem(r: NewsRow): NewsItem {
  return {
    id: r.id,
    title: r.title,
    content: r.content,
    target: r.target === null ? null : r.target.slice(r.target.indexOf(':') + 1),
    created_at: iso(r.created_at),
    expires_at: iso(r.expires_at),
  }
}

/** The DNA groups holding an account: `.1.`, `.1.42.`, `.1.42.57.` for `.1.42.57.`. */
export function groupsOf(dna: string): string[] {
  const out: string[] = []
  for (let i = dna.indexOf('.', 1); i > 0; i = dna.indexOf('.', i + 1))
    out.push(dna.slice(0, i + 1))
  return out
}

export type NewsService = ReturnType<typeof createNewsService>

export function createNewsService(d: { db: SqlDb; lookup: AccountLookup; clock: Clock }) {
  const repo = createNewsRepo(d.db)
  /** System news (root only) or the stored target `raw` names; 404 outside the caller's subtree. */
  const scope = async (caller: Account, raw: string | undefined) => {
    if (raw === undefined) {
      if (caller.id !== 1) throw new AppError('forbidden', 'only root posts or deletes system news')
      return { target: null, account: null }
    }
    const id = parseIdent(raw)
    if (id.kind === 'filter')
      throw bad('target', `'${raw}' is a list filter; use an ID, Name or DNA group`)
    const a = await findAccount(d.lookup, id)
    if (!a || !inSubtree(caller, a)) throw notFound(raw)
    return { target: id.kind === 'dna' ? `dna:${a.dna}` : `id:${a.id}`, account: a }
  }

  return {
    async post(caller: Account, rawTarget: string | undefined, body: NewsBody): Promise<NewsItem> {
      const { target, account } = await scope(caller, rawTarget)
      const title = body.title.trim()
      const content = body.content.trim()
      if (!title) throw bad('title', 'must not be empty')
      if (!content) throw bad('content', 'must not be empty')
      const days = body.days ?? (target === null ? SYSTEM_DAYS : TARGETED_DAYS)
      if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
        throw bad('days', `must be a whole number from 1 to ${MAX_DAYS}`)
      }
      const now = d.clock.now()
      return d.db.tx(async (tx) => {
        const row = await createNewsRepo(tx).insert(target, title, content, caller.id, now, now + days * DAY_MS)
        await createOpLogRepo(tx).record(
          {
            action: 'add_news',
            operatorId: caller.id,
            operatorDna: caller.dna,
            targetId: account?.id ?? null,
            targetDna: account?.dna ?? null,
            details: { news_id: row.id, target: newsItem(row).target, title, days },
          },
          now,
        )
        return newsItem(row)
      })
    },

    /** Deletes the system news, or the news aimed at one target; only item `id` when given. */
    async remove(caller: Account, rawTarget: string | undefined, id: number | undefined): Promise<number> {
      if (id !== undefined && !(Number.isSafeInteger(id) && id >= 1))
        throw bad('id', 'must be a news id')
      const { target, account } = await scope(caller, rawTarget)
      const now = d.clock.now()
      return d.db.tx(async (tx) => {
        const news = createNewsRepo(tx)
        const deleted =
          target === null
            ? await news.removeSystem(id ?? null)
            : await news.removeTargeted(target, id ?? null)
        if (id !== undefined && deleted === 0) throw new AppError('not_found', `no news ${id} here`)
        await createOpLogRepo(tx).record(
          {
            action: 'delete_news',
            operatorId: caller.id,
            operatorDna: caller.dna,
            targetId: account?.id ?? null,
            targetDna: account?.dna ?? null,
            details: {
              target: target === null ? null : target.slice(target.indexOf(':') + 1),
              id: id ?? null,
              deleted,
            },
          },
          now,
        )
        return deleted
      })
    },

    /** GET /dashboard/x-user-news: unexpired system news and news aimed at the caller. */
    async forAccount(caller: Account): Promise<{ success: true; system_news: NewsItem[]; user_news: NewsItem[] }> {
      const now = d.clock.now()
      const targets = [`id:${caller.id}`, ...groupsOf(caller.dna).map((g) => `dna:${g}`)]
      return {
        success: true,
        system_news: (await repo.system(now)).map(newsItem),
        user_news: (await repo.targeted(targets, now)).map(newsItem),
      }
    },
  }
}
