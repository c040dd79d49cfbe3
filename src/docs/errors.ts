// The error answers of xgate's document: the two error bodies (the OpenAI shape used by the
// OpenAI surface and every admin route, the Anthropic shape on /v1/messages) as component
// schemas, one component response per status and surface, and which statuses an operation has.
import type { Obj } from './schema'

const openaiError = (message: string, type: string, code: string, param?: string) => ({
  error: { message, type, code, ...(param ? { param } : {}) },
})
const anthropicError = (type: string, message: string) => ({
  type: 'error',
  error: { type, message },
})

export const ERROR_SCHEMAS: Obj = {
  Error: {
    type: 'object',
    description: 'The error body of the OpenAI surface and of every admin route',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'code'],
        properties: {
          message: { type: 'string', description: 'what went wrong, in words' },
          type: {
            type: 'string',
            description: 'the OpenAI error type',
            example: 'invalid_request_error',
          },
          code: { type: 'string', description: "xgate's error code", example: 'bad_request' },
          param: { type: 'string', description: 'the request field the error is about' },
        },
      },
    },
  },
  AnthropicError: {
    type: 'object',
    description: 'The error body of the Anthropic surface (/v1/messages)',
    required: ['type', 'error'],
    properties: {
      type: { type: 'string', enum: ['error'] },
      error: {
        type: 'object',
        required: ['type', 'message'],
        properties: {
          type: {
            type: 'string',
            description: 'the Anthropic error type',
            example: 'invalid_request_error',
          },
          message: { type: 'string', description: 'what went wrong, in words' },
        },
      },
    },
  },
}

type Answer = { name: string; description: string; openai: Obj; anthropic: Obj }

/** Each documented error status: its component name, its meaning, one example per surface. */
const ANSWERS: Record<string, Answer> = {
  '400': {
    name: 'BadRequest',
    description: 'Bad request: a field is missing or invalid (named in `param` and in the message)',
    openai: openaiError('Email is required', 'invalid_request_error', 'bad_request', 'Email'),
    anthropic: anthropicError('invalid_request_error', 'max_tokens is required'),
  },
  '401': {
    name: 'Unauthorized',
    description: 'No key, an unknown key, or a disabled account',
    openai: openaiError('invalid API key', 'authentication_error', 'invalid_api_key'),
    anthropic: anthropicError('authentication_error', 'invalid API key'),
  },
  '402': {
    name: 'PaymentRequired',
    description: "The call's hold (its worst-case cost) does not fit the balance less open holds",
    openai: openaiError('insufficient balance', 'insufficient_quota', 'insufficient_balance'),
    anthropic: anthropicError('billing_error', 'insufficient balance'),
  },
  '403': {
    name: 'Forbidden',
    description: 'The key may not do this (role, IP, model, level or resource not allowed)',
    openai: openaiError('only root may do this', 'permission_error', 'forbidden'),
    anthropic: anthropicError('permission_error', 'model not allowed for this key'),
  },
  '404': {
    name: 'NotFound',
    description: 'No such account, key or item within your subtree',
    openai: openaiError("no account '42' in your subtree", 'not_found_error', 'not_found'),
    anthropic: anthropicError('not_found_error', 'no such model'),
  },
  '408': {
    name: 'RequestTimeout',
    description:
      'The request body did not arrive within BODY_TIMEOUT_MS (or at 16 KiB/s after it); the connection closes',
    openai: openaiError(
      'request body not received in time',
      'invalid_request_error',
      'request_timeout',
    ),
    anthropic: anthropicError('invalid_request_error', 'request body not received in time'),
  },
  '409': {
    name: 'Conflict',
    description:
      'The Name, Email or key is taken already, or the account has calls in flight (a Rates change)',
    openai: openaiError(
      "Name: 'prod-account' is taken",
      'invalid_request_error',
      'conflict',
      'Name',
    ),
    anthropic: anthropicError('invalid_request_error', 'conflict'),
  },
  '413': {
    name: 'PayloadTooLarge',
    description: 'The request body is over the size limit',
    openai: openaiError(
      'request body over 1048576 bytes',
      'invalid_request_error',
      'payload_too_large',
    ),
    anthropic: anthropicError('request_too_large', 'request body over 1048576 bytes'),
  },
  '429': {
    name: 'TooManyRequests',
    description:
      'A rate limit (RPM, TPM, …), a Concurrency cap, every upstream key busy, or the monthly hard limit (spend + holds); see Retry-After',
    openai: openaiError('rate limit reached: RPM 60', 'rate_limit_error', 'rate_limit_exceeded'),
    anthropic: anthropicError('rate_limit_error', 'rate limit reached: RPM 60'),
  },
  '502': {
    name: 'BadGateway',
    description: 'The provider failed or answered something unusable',
    openai: openaiError(
      'the upstream provider could not be reached',
      'server_error',
      'upstream_error',
    ),
    anthropic: anthropicError('api_error', 'the upstream provider could not be reached'),
  },
  '503': {
    name: 'ServiceUnavailable',
    description:
      'No upstream key can take the call now (no_available_key), or the database is unreachable (store_unavailable, with Retry-After)',
    openai: openaiError('no upstream key available', 'server_error', 'no_available_key'),
    anthropic: anthropicError('overloaded_error', 'no upstream key available'),
  },
  '504': {
    name: 'GatewayTimeout',
    description: 'The provider did not answer in time',
    openai: openaiError(
      'the upstream provider did not answer in time',
      'server_error',
      'upstream_timeout',
    ),
    anthropic: anthropicError('api_error', 'the upstream provider did not answer in time'),
  },
}

export const isAnthropic = (path: string) => path.startsWith('/v1/messages')
export const isProxied = (path: string) => path.startsWith('/v1/')

/** Routes that refuse a Name, Email or key already in use. */
const CONFLICTS = /^\/x-(users|keys|self|root)(\/|$)/

/** The error statuses an operation can answer, from its surface, method and shape. */
export function errorStatuses(path: string, method: string, op: Obj): string[] {
  if (Array.isArray(op.security) && op.security.length === 0) return []
  const hasBody = op.requestBody !== undefined
  // A path segment is looked up (404 when unknown); a body or query can be refused as invalid.
  const queried = Array.isArray(op.parameters) && op.parameters.some((p: Obj) => p.in !== 'path')
  const hasInput = hasBody || queried
  const out = new Set<string>(['401', '403'])
  if (isProxied(path) && method === 'post') {
    for (const s of ['400', '402', '408', '413', '429', '502', '503', '504']) out.add(s)
  } else if (path.startsWith('/x-')) {
    // Every admin read and write goes to the store: 503 store_unavailable while it is unreachable.
    for (const s of ['400', '404', '503']) out.add(s)
    if (hasBody) {
      out.add('408')
      out.add('413')
    }
    if ((method === 'post' || method === 'put') && CONFLICTS.test(path)) out.add('409')
  } else {
    if (hasInput) out.add('400')
    // An account named in the path, or in a `u` query (a descendant), may not be in the subtree.
    const namesAccount = Array.isArray(op.parameters) && op.parameters.some((p: Obj) => p.name === 'u')
    if (path.includes('{') || namesAccount) out.add('404')
    if (path.startsWith('/dashboard')) out.add('503')
  }
  return [...out].sort()
}

const refName = (status: string, anthropic: boolean) =>
  (anthropic ? 'Anthropic' : '') + ANSWERS[status]!.name

/** The `$ref` of an operation's error answer. */
export const errorRef = (status: string, path: string) => ({
  $ref: `#/components/responses/${refName(status, isAnthropic(path))}`,
})

/** Component responses for the statuses and surfaces that `refs` (from errorRef) name. */
export function errorResponses(refs: Set<string>): Obj {
  const out: Obj = {}
  for (const [status, a] of Object.entries(ANSWERS)) {
    for (const anthropic of [false, true]) {
      const name = refName(status, anthropic)
      if (!refs.has(`#/components/responses/${name}`)) continue
      const schema = { $ref: `#/components/schemas/${anthropic ? 'AnthropicError' : 'Error'}` }
      out[name] = {
        description: a.description,
        content: { 'application/json': { schema, example: anthropic ? a.anthropic : a.openai } },
      }
    }
  }
  return out
}
