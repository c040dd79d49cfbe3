// Reads the XAI API reference (shared/seeds/xai-api-reference.md beside the checkout) into its
// curl examples, each with the Response block that follows it in the same section, if any.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export const SEED_PATH = join(import.meta.dir, '../../../shared/seeds/xai-api-reference.md')
export const SEED_HOST = 'https://api.proxyxai.com'

export type Example = { section: string; command: string; response?: unknown }

/**
 * Commands of a bash block as bash reads them: `\` continuations joined, newlines inside single
 * quotes kept, `# comments` (also after a `\`) dropped.
 */
export function commandsOf(block: string): string[] {
  const out: string[] = []
  let current = ''
  let quoted = false
  for (const raw of block.split('\n')) {
    const line: string = quoted ? raw : raw.replace(/\\\s+#.*$/, '\\').replace(/^\s*#.*$/, '')
    quoted = (line.split("'").length - 1) % 2 === 1 ? !quoted : quoted
    if (quoted) current += line + '\n'
    else if (line.trimEnd().endsWith('\\')) current += line.trimEnd().slice(0, -1) + ' '
    else {
      current += line
      if (current.trim()) out.push(current.trim())
      current = ''
    }
  }
  if (current.trim()) out.push(current.trim())
  return out.filter((c) => c.startsWith('curl '))
}

/** JSON of a seed block with its `//` comments removed (outside strings). */
export function seedJson(text: string): unknown {
  const clean = text.replace(/("(?:[^"\\]|\\.)*")|\/\/[^\n]*/g, (_m, str) => str ?? '')
  return JSON.parse(clean)
}

export function loadExamples(): Example[] {
  if (!existsSync(SEED_PATH)) throw new Error(`the XAI reference is not at ${SEED_PATH}`)
  const text = readFileSync(SEED_PATH, 'utf8')
  const out: Example[] = []
  let section = ''
  const re = /^(#{2,4} .*)$|```(bash|json)\n([\s\S]*?)```/gm
  let pending: Example[] = []
  let lastWasResponseLabel = false
  let m: RegExpExecArray | null
  let cursor = 0
  while ((m = re.exec(text))) {
    const between = text.slice(cursor, m.index)
    cursor = re.lastIndex
    if (m[1]) {
      section = m[1].replace(/^#+ /, '')
      pending = []
      continue
    }
    lastWasResponseLabel = /\*\*Response[^*]*\*\*\s*$/.test(between.trim())
    if (m[2] === 'bash') {
      pending = commandsOf(m[3]!).map((command) => ({ section, command }))
      out.push(...pending)
    } else if (lastWasResponseLabel && pending.length === 1) {
      pending[0]!.response = seedJson(m[3]!)
      pending = []
    }
  }
  return out
}
