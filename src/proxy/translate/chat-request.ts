// An OpenAI Chat Completions request as an Anthropic Messages request: system and developer turns
// hoisted into `system`, tool calls and results as tool_use / tool_result blocks, images as base64
// or URL sources, stop → stop_sequences, temperature clamped to [0, 1]; fields with no equivalent
// are recorded in `dropped`. A field that cannot be carried over is a 400 naming it.
import {
  argumentsObject,
  clampTemperature,
  dataUrl,
  Dropped,
  given,
  isObj,
  textOf,
  untranslatable,
  type Obj,
} from './common'

/** Fields Messages has no equivalent for (the request still makes sense without them). */
const NO_EQUIVALENT = [
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'seed',
  'response_format',
  'service_tier',
  'store',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
  'metadata',
  'functions',
  'function_call',
  'verbosity',
  'prompt_cache_key',
  'safety_identifier',
]
/** Fields consumed by the translation itself. */
const HANDLED = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'reasoning_effort',
  'n',
])

/** Thinking budgets for OpenAI's reasoning_effort (tokens). */
const BUDGET: Record<string, number> = { minimal: 1024, low: 1024, medium: 4096, high: 16384 }

export type ChatToMessagesOptions = {
  /** The upstream model name (after mapping). */
  model: string
  /** max_tokens when the client gave none (Messages requires it). */
  defaultMaxTokens: number
}

function imageBlock(part: Obj, at: string): Obj {
  const url = part.image_url?.url ?? part.image_url
  if (typeof url !== 'string') throw untranslatable(`${at}.image_url.url`, 'must be a string')
  const inline = dataUrl(url)
  if (inline)
    return {
      type: 'image',
      source: { type: 'base64', media_type: inline.mediaType, data: inline.data },
    }
  if (!/^https?:\/\//i.test(url))
    throw untranslatable(`${at}.image_url.url`, 'must be an http(s) or data: URL')
  return { type: 'image', source: { type: 'url', url } }
}

function fileBlock(part: Obj, at: string): Obj {
  const data = part.file?.file_data
  const inline = typeof data === 'string' ? dataUrl(data) : null
  if (!inline)
    throw untranslatable(
      `${at}.file`,
      'only inline file_data (a data: URL) can be sent to this model',
    )
  return {
    type: 'document',
    source: { type: 'base64', media_type: inline.mediaType, data: inline.data },
  }
}

/** A user turn's content as blocks (a plain string stays a string). */
function userContent(content: unknown, at: string): string | Obj[] {
  if (typeof content === 'string') return content
  if (!Array.isArray(content))
    throw untranslatable(`${at}.content`, 'must be a string or a list of parts')
  return content.map((part, j) => {
    const p = `${at}.content[${j}]`
    if (!isObj(part)) throw untranslatable(p, 'must be an object')
    if (part.type === 'text') return { type: 'text', text: String(part.text ?? '') }
    if (part.type === 'image_url') return imageBlock(part, p)
    if (part.type === 'file') return fileBlock(part, p)
    throw untranslatable(
      `${p}.type`,
      `a '${String(part.type)}' part has no equivalent for this model`,
    )
  })
}

function assistantContent(m: Obj, at: string): Obj[] {
  const blocks: Obj[] = []
  const text = textOf(m.content)
  if (text) blocks.push({ type: 'text', text })
  if (Array.isArray(m.tool_calls)) {
    m.tool_calls.forEach((tc: unknown, j: number) => {
      const p = `${at}.tool_calls[${j}]`
      if (!isObj(tc) || !isObj(tc.function)) throw untranslatable(p, 'must be a function tool call')
      if (typeof tc.id !== 'string') throw untranslatable(`${p}.id`, 'must be a string')
      blocks.push({
        type: 'tool_use',
        id: tc.id,
        name: String(tc.function.name ?? ''),
        input: argumentsObject(tc.function.arguments),
      })
    })
  }
  return blocks
}

function toolResult(m: Obj, at: string): Obj {
  if (typeof m.tool_call_id !== 'string')
    throw untranslatable(`${at}.tool_call_id`, 'must be a string')
  const content = typeof m.content === 'string' ? m.content : textOf(m.content)
  return { type: 'tool_result', tool_use_id: m.tool_call_id, content }
}

const asBlocks = (c: string | Obj[]): Obj[] =>
  typeof c === 'string' ? [{ type: 'text', text: c }] : c

/** Appends a turn, merging it into the previous one of the same role (Messages alternates roles). */
function push(out: Obj[], role: 'user' | 'assistant', content: string | Obj[]): void {
  const last = out.at(-1)
  if (last && last.role === role) last.content = [...asBlocks(last.content), ...asBlocks(content)]
  else out.push({ role, content })
}

function messagesOf(
  list: unknown,
  dropped: Dropped,
): { system: string | undefined; messages: Obj[] } {
  if (!Array.isArray(list) || list.length === 0)
    throw untranslatable('messages', 'must be a non-empty list')
  const system: string[] = []
  const out: Obj[] = []
  list.forEach((m: unknown, i: number) => {
    const at = `messages[${i}]`
    if (!isObj(m)) throw untranslatable(at, 'must be an object')
    if (m.name !== undefined) dropped.add('messages[].name')
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOf(m.content))
        return
      case 'user':
        return push(out, 'user', userContent(m.content, at))
      case 'assistant': {
        const blocks = assistantContent(m, at)
        // An empty assistant turn is not allowed upstream; it carries nothing anyway.
        if (blocks.length) push(out, 'assistant', blocks)
        return
      }
      case 'tool':
      case 'function':
        return push(out, 'user', [toolResult(m, at)])
      default:
        throw untranslatable(`${at}.role`, `unknown role '${String(m.role)}'`)
    }
  })
  if (out.length === 0)
    throw untranslatable('messages', 'needs at least one user or assistant turn')
  return { system: system.length ? system.join('\n\n') : undefined, messages: out }
}

function toolsOf(tools: unknown, dropped: Dropped): Obj[] {
  if (!Array.isArray(tools)) throw untranslatable('tools', 'must be a list')
  return tools.map((t: unknown, i: number) => {
    if (!isObj(t) || t.type !== 'function' || !isObj(t.function))
      throw untranslatable(`tools[${i}].type`, "only 'function' tools can be sent to this model")
    const f = t.function
    if (typeof f.name !== 'string' || !f.name)
      throw untranslatable(`tools[${i}].function.name`, 'is required')
    if (f.strict !== undefined) dropped.add('tools[].function.strict')
    const tool: Obj = {
      name: f.name,
      input_schema: isObj(f.parameters) ? f.parameters : { type: 'object', properties: {} },
    }
    if (typeof f.description === 'string') tool.description = f.description
    return tool
  })
}

function toolChoiceOf(choice: unknown, parallel: unknown): Obj | undefined {
  let out: Obj | undefined
  if (choice === 'auto') out = { type: 'auto' }
  else if (choice === 'none') out = { type: 'none' }
  else if (choice === 'required') out = { type: 'any' }
  else if (isObj(choice) && isObj(choice.function) && typeof choice.function.name === 'string')
    out = { type: 'tool', name: choice.function.name }
  else if (choice !== undefined)
    throw untranslatable('tool_choice', "must be 'auto', 'none', 'required' or a named function")
  if (parallel === false && out?.type !== 'none')
    out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true }
  return out
}

function stopOf(stop: unknown): string[] | undefined {
  if (stop === undefined || stop === null) return undefined
  // A single string becomes a one-element list; a list stays a list, one element or more.
  const list = typeof stop === 'string' ? [stop] : stop
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))
    throw untranslatable('stop', 'must be a string or a list of strings')
  return list
}

export function chatToMessages(
  req: Obj,
  opts: ChatToMessagesOptions,
): { body: Obj; dropped: Dropped } {
  const dropped = new Dropped()
  const { system, messages } = messagesOf(req.messages, dropped)
  const body: Obj = { model: opts.model }
  const max = req.max_completion_tokens ?? req.max_tokens
  if (max !== undefined && max !== null && (!Number.isInteger(max) || max < 1))
    throw untranslatable(
      req.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens',
      'must be a positive integer',
    )
  body.max_tokens = max ?? opts.defaultMaxTokens
  if (system !== undefined) body.system = system
  body.messages = messages
  const effort = req.reasoning_effort
  const budget = typeof effort === 'string' ? BUDGET[effort] : undefined
  const thinking = budget !== undefined && budget < body.max_tokens
  if (thinking) body.thinking = { type: 'enabled', budget_tokens: budget }
  else if (effort !== undefined && effort !== null && effort !== 'none')
    dropped.add('reasoning_effort')
  // Extended thinking fixes the sampling parameters: the client's are dropped, not sent.
  const temperature = clampTemperature(req.temperature, 1)
  if (temperature !== undefined)
    thinking ? dropped.add('temperature') : (body.temperature = temperature)
  if (typeof req.top_p === 'number') thinking ? dropped.add('top_p') : (body.top_p = req.top_p)
  const stop = stopOf(req.stop)
  if (stop) body.stop_sequences = stop
  if (req.stream === true) body.stream = true
  if (req.tools !== undefined && req.tools !== null) body.tools = toolsOf(req.tools, dropped)
  const choice = toolChoiceOf(req.tool_choice ?? undefined, req.parallel_tool_calls)
  if (choice && body.tools) body.tool_choice = choice
  if (typeof req.user === 'string') body.metadata = { user_id: req.user }
  if (req.n !== undefined && req.n !== null && req.n !== 1) dropped.add('n')
  for (const k of NO_EQUIVALENT) if (given(req[k])) dropped.add(k)
  for (const k of Object.keys(req))
    if (!HANDLED.has(k) && !NO_EQUIVALENT.includes(k) && given(req[k])) dropped.add(k)
  return { body, dropped }
}
