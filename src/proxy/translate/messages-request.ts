// An Anthropic Messages request as an OpenAI Chat Completions request: `system` first, tool_use
// blocks as assistant tool_calls, tool_result blocks as tool turns, image and document sources as
// data/https URLs, stop_sequences → stop, thinking → reasoning_effort for reasoning models; every
// cache_control and field without an equivalent is recorded in `dropped`.
import { Dropped, given, isObj, openaiReasons, textOf, untranslatable, type Obj } from './common'

const NO_EQUIVALENT = ['top_k', 'service_tier', 'container', 'mcp_servers', 'context_management']
const HANDLED = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'temperature',
  'top_p',
  'stop_sequences',
  'stream',
  'tools',
  'tool_choice',
  'metadata',
  'thinking',
])

export type MessagesToChatOptions = { model: string }

function noteCache(block: Obj, dropped: Dropped): void {
  if (block.cache_control !== undefined) dropped.add('cache_control')
}

function sourceUrl(source: unknown, at: string): string {
  if (!isObj(source)) throw untranslatable(`${at}.source`, 'is required')
  if (source.type === 'base64') {
    if (typeof source.media_type !== 'string' || typeof source.data !== 'string')
      throw untranslatable(`${at}.source`, 'needs media_type and data')
    return `data:${source.media_type};base64,${source.data}`
  }
  if (source.type === 'url' && typeof source.url === 'string') return source.url
  throw untranslatable(
    `${at}.source.type`,
    `a '${String(source.type)}' source has no equivalent for this model`,
  )
}

function userPart(b: Obj, at: string): Obj {
  if (b.type === 'text') return { type: 'text', text: String(b.text ?? '') }
  if (b.type === 'image') return { type: 'image_url', image_url: { url: sourceUrl(b.source, at) } }
  if (b.type === 'document' && isObj(b.source) && b.source.type === 'base64')
    return {
      type: 'file',
      file: { file_data: sourceUrl(b.source, at), filename: String(b.title ?? 'document.pdf') },
    }
  throw untranslatable(`${at}.type`, `a '${String(b.type)}' block has no equivalent for this model`)
}

/**
 * A tool result's text for the tool turn. Chat's tool turns carry text only: its images go to
 * `images` (sent in the user turn right after the tool turns); other blocks are dropped.
 */
function toolResultText(content: unknown, at: string, dropped: Dropped, images: Obj[]): string {
  if (content === undefined || typeof content === 'string') return content ?? ''
  if (!Array.isArray(content))
    throw untranslatable(`${at}.content`, 'must be a string or a list of blocks')
  content.forEach((c: unknown, k: number) => {
    if (!isObj(c)) return
    noteCache(c, dropped)
    if (c.type === 'image') images.push(userPart(c, `${at}.content[${k}]`))
    else if (c.type !== 'text') dropped.add('tool_result.content[].' + String(c.type))
  })
  return textOf(content)
}

/**
 * One Anthropic turn as one or more Chat messages: tool results become tool turns, first; the
 * rest of a user turn (and the images of its tool results) follows as one user turn.
 */
function turnOf(m: Obj, at: string, out: Obj[], dropped: Dropped): void {
  if (m.role !== 'user' && m.role !== 'assistant')
    throw untranslatable(`${at}.role`, "must be 'user' or 'assistant'")
  if (typeof m.content === 'string') {
    out.push({ role: m.role, content: m.content })
    return
  }
  if (!Array.isArray(m.content))
    throw untranslatable(`${at}.content`, 'must be a string or a list of blocks')
  const parts: Obj[] = []
  const calls: Obj[] = []
  m.content.forEach((b: unknown, j: number) => {
    const p = `${at}.content[${j}]`
    if (!isObj(b)) throw untranslatable(p, 'must be an object')
    noteCache(b, dropped)
    if (b.type === 'tool_result') {
      if (typeof b.tool_use_id !== 'string')
        throw untranslatable(`${p}.tool_use_id`, 'must be a string')
      const text = toolResultText(b.content, p, dropped, parts)
      out.push({
        role: 'tool',
        tool_call_id: b.tool_use_id,
        content: b.is_error === true ? `Error: ${text}` : text,
      })
    } else if (b.type === 'tool_use' && m.role === 'assistant') {
      if (typeof b.id !== 'string') throw untranslatable(`${p}.id`, 'must be a string')
      const args = JSON.stringify(isObj(b.input) ? b.input : {})
      calls.push({
        id: b.id,
        type: 'function',
        function: { name: String(b.name ?? ''), arguments: args },
      })
    } else if (b.type === 'thinking' || b.type === 'redacted_thinking') {
      // The model's own earlier reasoning: Chat takes none back (its signature means nothing there).
    } else if (m.role === 'assistant') {
      if (b.type !== 'text')
        throw untranslatable(
          `${p}.type`,
          `a '${String(b.type)}' block has no equivalent for this model`,
        )
      parts.push({ type: 'text', text: String(b.text ?? '') })
    } else parts.push(userPart(b, p))
  })
  if (m.role === 'assistant') {
    if (!parts.length && !calls.length) return
    const msg: Obj = { role: 'assistant', content: parts.length ? textOf(parts) : null }
    if (calls.length) msg.tool_calls = calls
    out.push(msg)
  } else if (parts.length) {
    const onlyText = parts.every((p) => p.type === 'text')
    out.push({ role: 'user', content: onlyText ? textOf(parts) : parts })
  }
}

function systemOf(system: unknown, dropped: Dropped): string | undefined {
  if (system === undefined || system === null) return undefined
  if (typeof system === 'string') return system
  if (!Array.isArray(system))
    throw untranslatable('system', 'must be a string or a list of text blocks')
  for (const b of system) if (isObj(b)) noteCache(b, dropped)
  return textOf(system)
}

function toolsOf(tools: unknown, dropped: Dropped): Obj[] {
  if (!Array.isArray(tools)) throw untranslatable('tools', 'must be a list')
  return tools.map((t: unknown, i: number) => {
    if (!isObj(t)) throw untranslatable(`tools[${i}]`, 'must be an object')
    if (t.type !== undefined && t.type !== 'custom')
      throw untranslatable(
        `tools[${i}].type`,
        `the server tool '${String(t.type)}' has no equivalent for this model`,
      )
    if (typeof t.name !== 'string' || !t.name)
      throw untranslatable(`tools[${i}].name`, 'is required')
    noteCache(t, dropped)
    const fn: Obj = {
      name: t.name,
      parameters: isObj(t.input_schema) ? t.input_schema : { type: 'object', properties: {} },
    }
    if (typeof t.description === 'string') fn.description = t.description
    return { type: 'function', function: fn }
  })
}

function toolChoiceOf(choice: unknown): { choice?: unknown; parallel?: boolean } {
  if (choice === undefined || choice === null) return {}
  if (!isObj(choice)) throw untranslatable('tool_choice', 'must be an object')
  const parallel = choice.disable_parallel_tool_use === true ? false : undefined
  switch (choice.type) {
    case 'auto':
      return { choice: 'auto', parallel }
    case 'any':
      return { choice: 'required', parallel }
    case 'none':
      return { choice: 'none' }
    case 'tool':
      if (typeof choice.name !== 'string') throw untranslatable('tool_choice.name', 'is required')
      return { choice: { type: 'function', function: { name: choice.name } }, parallel }
    default:
      throw untranslatable('tool_choice.type', "must be 'auto', 'any', 'tool' or 'none'")
  }
}

/** Thinking budget (tokens) → reasoning effort. */
const effortOf = (budget: number) => (budget < 2048 ? 'low' : budget < 8192 ? 'medium' : 'high')

export function messagesToChat(
  req: Obj,
  opts: MessagesToChatOptions,
): { body: Obj; dropped: Dropped } {
  const dropped = new Dropped()
  if (!Array.isArray(req.messages) || req.messages.length === 0)
    throw untranslatable('messages', 'must be a non-empty list')
  if (!Number.isInteger(req.max_tokens) || req.max_tokens < 1)
    throw untranslatable('max_tokens', 'must be a positive integer')
  const reasons = openaiReasons(opts.model)
  const messages: Obj[] = []
  const system = systemOf(req.system, dropped)
  if (system !== undefined)
    messages.push({ role: reasons ? 'developer' : 'system', content: system })
  req.messages.forEach((m: unknown, i: number) => {
    if (!isObj(m)) throw untranslatable(`messages[${i}]`, 'must be an object')
    turnOf(m, `messages[${i}]`, messages, dropped)
  })
  const body: Obj = { model: opts.model, messages }
  // Reasoning models count max_completion_tokens (reasoning included); others take max_tokens.
  body[reasons ? 'max_completion_tokens' : 'max_tokens'] = req.max_tokens
  const thinking = isObj(req.thinking) && req.thinking.type === 'enabled'
  if (thinking && reasons) body.reasoning_effort = effortOf(Number(req.thinking.budget_tokens) || 0)
  else if (thinking) dropped.add('thinking')
  if (typeof req.temperature === 'number')
    reasons ? dropped.add('temperature') : (body.temperature = req.temperature)
  if (typeof req.top_p === 'number') reasons ? dropped.add('top_p') : (body.top_p = req.top_p)
  if (req.stop_sequences !== undefined) {
    const s = req.stop_sequences
    if (!Array.isArray(s) || !s.every((x) => typeof x === 'string'))
      throw untranslatable('stop_sequences', 'must be a list of strings')
    if (s.length) body.stop = s
  }
  if (req.stream === true) {
    body.stream = true
    // The usage of a stream comes only when asked for; message_delta needs it.
    body.stream_options = { include_usage: true }
  }
  if (req.tools !== undefined && req.tools !== null) {
    const tools = toolsOf(req.tools, dropped)
    if (tools.length) body.tools = tools
  }
  const { choice, parallel } = toolChoiceOf(req.tool_choice)
  if (body.tools && choice !== undefined) body.tool_choice = choice
  if (body.tools && parallel === false) body.parallel_tool_calls = false
  if (isObj(req.metadata) && typeof req.metadata.user_id === 'string')
    body.user = req.metadata.user_id
  for (const k of Object.keys(req))
    if ((!HANDLED.has(k) || NO_EQUIVALENT.includes(k)) && given(req[k])) dropped.add(k)
  return { body, dropped }
}
