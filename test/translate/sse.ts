// Test helpers for recorded SSE streams: split a recording into data payloads, run a stream
// translator over them one event at a time, and parse what it emitted back into events.
import type { StreamTranslator } from '../../src/proxy/translate/route'

export type Ev = { event: string | null; data: any }

/** The `data:` payloads of an SSE text, in order (one per event). */
export function payloads(text: string): string[] {
  const out: string[] = []
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(l.charCodeAt(5) === 32 ? 6 : 5))
    if (data.length) out.push(data.join('\n'))
  }
  return out
}

/** Parses emitted SSE text into events; `[DONE]` stays a string. */
export function events(text: string): Ev[] {
  const out: Ev[] = []
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue
    let event: string | null = null
    let data = ''
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('data: ')) data += line.slice(6)
    }
    // A comment-only block (`: ping`) is no event.
    if (event === null && data === '') continue
    out.push({ event, data: data === '[DONE]' ? data : JSON.parse(data) })
  }
  return out
}

/** Feeds every payload to the translator, then its end; returns the client's events and chunks. */
export function run(t: StreamTranslator, recorded: string[]): { evs: Ev[]; pieces: string[] } {
  const pieces = recorded.map((p) => t.event(p))
  pieces.push(t.end())
  return { evs: events(pieces.join('')), pieces }
}

export const recording = (name: string) =>
  Bun.file(new URL(`./recorded/${name}`, import.meta.url)).text()
