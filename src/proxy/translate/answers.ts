// Whole (non-streamed) answers and error bodies in the client's dialect: an Anthropic message as a
// chat.completion and back, usage with each provider's meaning, errors with the client's types.
import {
  anthropicStop,
  anthropicUsageOf,
  argumentsObject,
  isObj,
  openaiFinish,
  openaiUsageOf,
  textOf,
  type Dialect,
  type Obj,
} from './common'

/** An Anthropic message as an OpenAI chat.completion (`createdS`: unix seconds). */
export function messageToChat(msg: Obj, model: string, createdS: number): Obj {
  let text = ''
  let reasoning = ''
  const calls: Obj[] = []
  for (const b of Array.isArray(msg.content) ? msg.content : []) {
    if (!isObj(b)) continue
    if (b.type === 'text') text += String(b.text ?? '')
    else if (b.type === 'thinking') reasoning += String(b.thinking ?? '')
    else if (b.type === 'tool_use')
      calls.push({
        id: String(b.id),
        type: 'function',
        function: { name: String(b.name ?? ''), arguments: JSON.stringify(b.input ?? {}) },
      })
  }
  const message: Obj = {
    role: 'assistant',
    content: text || (calls.length ? null : ''),
    refusal: null,
  }
  if (reasoning) message.reasoning_content = reasoning
  if (calls.length) message.tool_calls = calls
  return {
    id: `chatcmpl-${String(msg.id ?? '')}`,
    object: 'chat.completion',
    created: createdS,
    model: typeof msg.model === 'string' ? msg.model : model,
    choices: [
      { index: 0, message, logprobs: null, finish_reason: openaiFinish(msg.stop_reason) ?? 'stop' },
    ],
    usage: openaiUsageOf(msg.usage),
  }
}

/** An OpenAI chat.completion as an Anthropic message (its first choice). */
export function chatToMessage(res: Obj, model: string): Obj {
  const choice = Array.isArray(res.choices) && isObj(res.choices[0]) ? res.choices[0] : {}
  const m: Obj = isObj(choice.message) ? choice.message : {}
  const content: Obj[] = []
  const reasoning = m.reasoning_content ?? m.reasoning
  if (typeof reasoning === 'string' && reasoning)
    content.push({ type: 'thinking', thinking: reasoning, signature: '' })
  const text = textOf(m.content) || (typeof m.refusal === 'string' ? m.refusal : '')
  if (text) content.push({ type: 'text', text })
  for (const tc of Array.isArray(m.tool_calls) ? m.tool_calls : []) {
    if (!isObj(tc) || !isObj(tc.function)) continue
    content.push({
      type: 'tool_use',
      id: String(tc.id ?? ''),
      name: String(tc.function.name ?? ''),
      input: argumentsObject(tc.function.arguments),
    })
  }
  const calls = content.some((b) => b.type === 'tool_use')
  return {
    id: `msg_${String(res.id ?? '').replace(/^chatcmpl-/, '')}`,
    type: 'message',
    role: 'assistant',
    model: typeof res.model === 'string' ? res.model : model,
    content,
    // A tool call is a tool_use turn whatever the finish reason says.
    stop_reason: calls ? 'tool_use' : (anthropicStop(choice.finish_reason) ?? 'end_turn'),
    stop_sequence: null,
    usage: anthropicUsageOf(res.usage),
  }
}

const ANTHROPIC_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  504: 'timeout_error',
  529: 'overloaded_error',
}
const OPENAI_TYPE: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'insufficient_quota',
  403: 'permission_error',
  404: 'not_found_error',
  409: 'invalid_request_error',
  413: 'invalid_request_error',
  422: 'invalid_request_error',
  429: 'rate_limit_error',
}

/**
 * The client's status for an upstream error: the same, except Anthropic's 529 (overloaded), which
 * OpenAI clients do not know: they get 503.
 */
export function errorStatus(status: number, client: Dialect): number {
  return client === 'openai' && status === 529 ? 503 : status
}

/** The message of an error body in either dialect, or a generic one. */
function messageOf(body: unknown, status: number): { message: string; param?: string } {
  const e = isObj(body) && isObj(body.error) ? body.error : null
  if (e && typeof e.message === 'string')
    return { message: e.message, param: typeof e.param === 'string' ? e.param : undefined }
  return { message: `the upstream provider answered ${status}` }
}

/** An upstream error body (either dialect, or not JSON) rendered in the client's dialect. */
export function errorBody(body: unknown, status: number, client: Dialect): Obj {
  const { message, param } = messageOf(body, status)
  if (client === 'anthropic') {
    const type = ANTHROPIC_TYPE[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error')
    return { type: 'error', error: { type, message } }
  }
  const type = OPENAI_TYPE[status] ?? (status >= 500 ? 'server_error' : 'invalid_request_error')
  const error: Obj = { message, type, param: param ?? null, code: null }
  return { error }
}
