// An OpenAI Responses request as an Anthropic Messages request, where it maps: `instructions` and
// system/developer items hoisted into `system`, message items as turns, function_call and
// function_call_output items as tool_use / tool_result blocks, function tools, tool_choice.
// Stateful features (previous_response_id, conversation, background) have no translation: 400.
import { chatToMessages } from './chat-request'
import { Dropped, given, isObj, textOf, untranslatable, type Obj } from './common'

/** Responses fields with no Messages equivalent that a stateless call can do without. */
const NO_EQUIVALENT = [
  'store',
  'include',
  'truncation',
  'metadata',
  'service_tier',
  'prompt_cache_key',
  'safety_identifier',
  'top_logprobs',
  'max_tool_calls',
  'text',
  'prompt',
]
const STATEFUL = ['previous_response_id', 'conversation', 'background']
const HANDLED = new Set([
  'model',
  'input',
  'instructions',
  'max_output_tokens',
  'temperature',
  'top_p',
  'stream',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'user',
  'reasoning',
  'stream_options',
])

/** A Responses content part as a Chat part (the Chat translation does the rest). */
function partOf(p: unknown, at: string): Obj {
  if (!isObj(p)) throw untranslatable(at, 'must be an object')
  if (p.type === 'input_text' || p.type === 'output_text' || p.type === 'text')
    return { type: 'text', text: String(p.text ?? '') }
  if (p.type === 'refusal') return { type: 'text', text: String(p.refusal ?? '') }
  if (p.type === 'input_image') {
    if (typeof p.image_url !== 'string')
      throw untranslatable(
        `${at}.image_url`,
        'only an image URL (https or data:) can be sent to this model',
      )
    return { type: 'image_url', image_url: { url: p.image_url } }
  }
  if (p.type === 'input_file' && typeof p.file_data === 'string')
    return { type: 'file', file: { file_data: p.file_data } }
  throw untranslatable(`${at}.type`, `a '${String(p.type)}' part has no equivalent for this model`)
}

function contentOf(content: unknown, at: string): string | Obj[] {
  if (typeof content === 'string') return content
  if (!Array.isArray(content))
    throw untranslatable(`${at}.content`, 'must be a string or a list of parts')
  return content.map((p, j) => partOf(p, `${at}.content[${j}]`))
}

/** Responses input items as Chat messages (consecutive function calls join one assistant turn). */
function messagesOf(input: unknown, instructions: unknown): Obj[] {
  const out: Obj[] = []
  if (typeof instructions === 'string' && instructions)
    out.push({ role: 'system', content: instructions })
  if (typeof input === 'string') {
    out.push({ role: 'user', content: input })
    return out
  }
  if (!Array.isArray(input) || input.length === 0)
    throw untranslatable('input', 'must be a string or a non-empty list of items')
  input.forEach((item: unknown, i: number) => {
    const at = `input[${i}]`
    if (!isObj(item)) throw untranslatable(at, 'must be an object')
    const type = item.type ?? 'message'
    if (type === 'message') {
      if (!['user', 'assistant', 'system', 'developer'].includes(item.role))
        throw untranslatable(`${at}.role`, `unknown role '${String(item.role)}'`)
      out.push({ role: item.role, content: contentOf(item.content, at) })
    } else if (type === 'function_call') {
      if (typeof item.call_id !== 'string')
        throw untranslatable(`${at}.call_id`, 'must be a string')
      const call = {
        id: item.call_id,
        type: 'function',
        function: { name: String(item.name ?? ''), arguments: String(item.arguments ?? '') },
      }
      const last = out.at(-1)
      if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) last.tool_calls.push(call)
      else out.push({ role: 'assistant', content: null, tool_calls: [call] })
    } else if (type === 'function_call_output') {
      if (typeof item.call_id !== 'string')
        throw untranslatable(`${at}.call_id`, 'must be a string')
      const output = typeof item.output === 'string' ? item.output : textOf(item.output)
      out.push({ role: 'tool', tool_call_id: item.call_id, content: output })
    } else if (type !== 'reasoning') {
      // Reasoning items are the model's own earlier thoughts: nothing to send back.
      throw untranslatable(
        `${at}.type`,
        `a '${String(type)}' item has no equivalent for this model`,
      )
    }
  })
  return out
}

function toolsOf(tools: unknown): Obj[] {
  if (!Array.isArray(tools)) throw untranslatable('tools', 'must be a list')
  return tools.map((t: unknown, i: number) => {
    if (!isObj(t) || t.type !== 'function')
      throw untranslatable(`tools[${i}].type`, "only 'function' tools can be sent to this model")
    const { type, ...fn } = t
    return { type, function: fn }
  })
}

function toolChoiceOf(choice: unknown): unknown {
  if (isObj(choice) && choice.type === 'function')
    return { type: 'function', function: { name: choice.name } }
  return choice
}

export type ResponsesToMessagesOptions = { model: string; defaultMaxTokens: number }

export function responsesToMessages(
  req: Obj,
  opts: ResponsesToMessagesOptions,
): { body: Obj; dropped: Dropped } {
  for (const k of STATEFUL)
    if (req[k] !== undefined && req[k] !== null && req[k] !== false)
      throw untranslatable(
        k,
        'stored responses are not available for this model; send the whole conversation',
      )
  const chat: Obj = { model: req.model, messages: messagesOf(req.input, req.instructions) }
  const max = req.max_output_tokens
  if (max !== undefined && max !== null && (!Number.isInteger(max) || max < 1))
    throw untranslatable('max_output_tokens', 'must be a positive integer')
  if (max !== undefined) chat.max_tokens = max
  for (const k of ['temperature', 'top_p', 'stream', 'parallel_tool_calls', 'user'])
    if (req[k] !== undefined) chat[k] = req[k]
  if (req.tools !== undefined && req.tools !== null) chat.tools = toolsOf(req.tools)
  if (req.tool_choice !== undefined) chat.tool_choice = toolChoiceOf(req.tool_choice)
  if (isObj(req.reasoning) && typeof req.reasoning.effort === 'string')
    chat.reasoning_effort = req.reasoning.effort
  const out = chatToMessages(chat, opts)
  const dropped = new Dropped()
  for (const n of out.dropped.names) dropped.add(n === 'reasoning_effort' ? 'reasoning' : n)
  for (const k of NO_EQUIVALENT) if (given(req[k])) dropped.add(k)
  for (const k of Object.keys(req))
    if (!HANDLED.has(k) && !STATEFUL.includes(k) && given(req[k])) dropped.add(k)
  return { body: out.body, dropped }
}
