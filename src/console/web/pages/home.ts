// Home: the balance (the figure of /dashboard/x-user-status), the credit cards and their expiry,
// this month's spend against SoftLimit and HardLimit, today's spend, and the news.
import { markup } from '../markup'
import { get } from '../api'
import { day } from '../format'
import { me, refreshMe, type UserInfo } from '../session'
import { ErrorLine, Money, Section, useLoad } from '../parts/ui'
import { NewsList, type NewsAnswer } from './news'

type Status = { balance: number | null; name: string; id: number }

function SpendBar({ label, spent, limit }: { label: string; spent: number; limit: number }) {
  const id = `bar-${label.replace(/\W/g, '')}`
  if (!limit) return markup`<p>${label}: none set</p>`
  return markup`<div class="bar">
    <label for=${id}>${label}: <${Money} usd=${spent} /> of <${Money} usd=${limit} /></label>
    <meter id=${id} min="0" max=${limit} value=${Math.min(spent, limit)} high=${limit * 0.8}>
      ${Math.round((spent / limit) * 100)}%
    </meter>
  </div>`
}

export function Home() {
  const status = useLoad(() => get<Status>('/dashboard/x-user-status'), [])
  const info = useLoad<UserInfo>(() => refreshMe(), [])
  const news = useLoad(() => get<NewsAnswer>('/dashboard/x-user-news'), [])
  const i = info.data ?? me.value!
  return markup`<div class="grid">
    <${Section} title="Balance">
      <${ErrorLine} error=${status.error} />
      <p class="big" data-testid="balance">
        ${status.data ? markup`<${Money} usd=${status.data.balance} />` : '…'}
      </p>
      <p>Held by calls in flight: <${Money} usd=${i.Held} /> · Lifetime spend: <${Money} usd=${i.CreditUsed} /></p>
    <//>
    <${Section} title="Spend">
      <${ErrorLine} error=${info.error} />
      <p>Today (${i.Usage.Today.date}): <${Money} usd=${i.Usage.Today.cost} /> in ${i.Usage.Today.requests} requests</p>
      <p>This month (${i.Usage.Month.month}): <${Money} usd=${i.Usage.Month.cost} /> in ${i.Usage.Month.requests} requests</p>
      <${SpendBar} label="SoftLimit (alert)" spent=${i.Usage.Month.cost} limit=${i.SoftLimit} />
      <${SpendBar} label="HardLimit (stop)" spent=${i.Usage.Month.cost} limit=${i.HardLimit} />
    <//>
    <${Section} title="Credit cards">
      ${
        i.CreditBalance.length === 0
          ? markup`<p>No cards.</p>`
          : markup`<div class="scroll"><table>
            <caption>Cards, soonest expiry first</caption>
            <thead><tr><th scope="col">Granted</th><th scope="col">Amount</th><th scope="col">Left</th><th scope="col">Expires</th></tr></thead>
            <tbody>
              ${i.CreditBalance.map(
                (c) => markup`<tr>
                  <td>${day(c.granted_at)}</td>
                  <td class="num"><${Money} usd=${c.amount} /></td>
                  <td class="num"><${Money} usd=${c.balance} /></td>
                  <td>${day(c.expires_at)}</td>
                </tr>`,
              )}
            </tbody>
          </table></div>`
      }
    <//>
    <${Section} title="News">
      <${ErrorLine} error=${news.error} />
      ${news.data ? markup`<${NewsList} news=${news.data} />` : markup`<p>…</p>`}
    <//>
  </div>`
}
