// The console's files as this process serves them: the HTML page and its hashed assets. In the
// compiled binary Bun has bundled the page ahead of time (the HTML import's `files`); under
// `bun run` and `bun test` the same page is bundled here once, on first use, in memory.
import type { HTMLBundle } from 'bun'
import page from './web/index.html'

export type ConsoleFile = { name: string; type: string; body: Blob; etag: string }
export type ConsoleFiles = { html: string; htmlEtag: string; assets: Map<string, ConsoleFile> }

/** Where the assets are served; the page's references are rewritten to point here. */
export const ASSET_PREFIX = '/console/assets/'

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1)
/** An entity tag in its quoted form (the compiler's headers give it bare). */
const quoted = (tag: string) => (tag.startsWith('"') || tag.startsWith('W/') ? tag : `"${tag}"`)

/** The page with every reference to a bundled file (`/x`, `./x`) pointed at ASSET_PREFIX. */
export function rewriteHtml(html: string, names: readonly string[]): string {
  let out = html
  for (const n of names) {
    out = out.split(`="/${n}"`).join(`="${ASSET_PREFIX}${n}"`)
    out = out.split(`="./${n}"`).join(`="${ASSET_PREFIX}${n}"`)
  }
  return out
}

async function assemble(
  html: { text: string; etag: string },
  assets: ConsoleFile[],
): Promise<ConsoleFiles> {
  const map = new Map(assets.map((a) => [a.name, a]))
  return { html: rewriteHtml(html.text, [...map.keys()]), htmlEtag: html.etag, assets: map }
}

/** Ahead of time: the files the compiler embedded. */
async function fromEmbedded(files: NonNullable<HTMLBundle['files']>): Promise<ConsoleFiles> {
  const entry = files.find((f) => f.loader === 'html')
  if (!entry) throw new Error('the console bundle has no HTML page')
  const assets = files
    .filter((f) => f !== entry)
    .map((f) => ({
      name: baseName(f.path),
      type: f.headers['content-type'],
      body: Bun.file(f.path),
      etag: quoted(f.headers.etag),
    }))
  return assemble(
    { text: await Bun.file(entry.path).text(), etag: quoted(entry.headers.etag) },
    assets,
  )
}

/** From source: one in-memory build of the page, minified. */
async function fromSource(index: string): Promise<ConsoleFiles> {
  const built = await Bun.build({ entrypoints: [index], minify: true, target: 'browser' })
  if (!built.success) throw new Error(`console bundle failed: ${built.logs.join('; ')}`)
  const entry = built.outputs.find((o) => o.type.startsWith('text/html'))
  if (!entry) throw new Error('the console bundle has no HTML page')
  const assets = built.outputs
    .filter((o) => o !== entry)
    .map((o) => ({ name: baseName(o.path), type: o.type, body: o as Blob, etag: `"${o.hash}"` }))
  return assemble({ text: await entry.text(), etag: `"${entry.hash}"` }, assets)
}

let loading: Promise<ConsoleFiles> | null = null

/** The console's files, built or read once per process. */
export function consoleFiles(): Promise<ConsoleFiles> {
  const bundle = page as HTMLBundle
  loading ??= bundle.files?.length ? fromEmbedded(bundle.files) : fromSource(bundle.index)
  // A failed build is tried again on the next request rather than remembered.
  loading.catch(() => (loading = null))
  return loading
}
