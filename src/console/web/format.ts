// How the console writes numbers: money with 2 decimals (the full figure in a tooltip), token
// counts with separators, times in the browser's zone, and CSV text.
export const fullUsd = (usd: number) => `${usd} USD`

/** "$1,234.57"; negative amounts keep their sign. */
export function usd2(usd: number): string {
  const sign = usd < 0 ? '-' : ''
  return `${sign}$${Math.abs(usd).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
}

export const int = (n: number | null | undefined) =>
  n === null || n === undefined ? '—' : Math.round(n).toLocaleString('en-US')

export function when(iso: string | number): string {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString('en-GB', { hour12: false })
}

export const day = (iso: string) => iso.slice(0, 10)

/** Today (UTC) as YYYY-MM-DD: xgate accepts the UTC date in rotation confirms. */
export const todayUtc = () => new Date().toISOString().slice(0, 10)

/** A CSV document from rows; fields with commas, quotes or newlines are quoted. */
export function csv(rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cell = (v: string | number) => {
    const s = String(v)
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }
  return rows.map((r) => r.map(cell).join(',')).join('\n') + '\n'
}

/** Offers `text` as a file download (a blob link, no server round trip). */
export function download(name: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
