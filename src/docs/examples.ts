// Request examples of the admin routes, taken from the XAI API reference (its `//` comments
// removed), keyed by method and OpenAPI path, so that "Test Request" in /swagger sends a body
// xgate accepts, and the proxied calls' smallest bodies. `{today}` stands for today's date (YYYY-MM-DD, UTC), filled in when served.

/** Request body examples. */
export const BODY_EXAMPLES: Record<string, unknown> = {
  'POST /x-users': {
    Name: 'prod-account',
    Email: 'prod@company.com',
    CreditGranted: 500,
    Alias: 'Production Environment',
    RPM: 100,
    TPM: 200000,
  },
  'PUT /x-users/{id}': {
    CreditGranted: 100,
    Days: 30,
    Rates: 1.5,
    Status: true,
    HardLimit: 2000,
    AllowModels: 'gpt-4* claude-*',
    AllowIPs: '192.168.1.0/24 10.0.0.5',
    ModelLimits: { 'gpt-4': { rpm: 30, tpm: 90000 } },
  },
  'POST /x-users/{id}': { CreditGranted: 100, Days: 30 },
  'POST /x-keys': {
    SecretKey: 'sk-...',
    Name: 'Claude API Key',
    Level: 2,
    Provider: 'https://api.anthropic.com',
  },
  'PUT /x-keys/{id}': {
    Name: 'Updated Name',
    Level: 2,
    Status: false,
    Provider: 'https://api.anthropic.com',
  },
  'POST /x-self': { confirm: '{today}-ROTATE-SELF' },
  'POST /x-root': { name: 'prod-account', confirm: '{today}-ROTATE-ROOT' },
  'POST /x-news': {
    title: 'New Feature Release',
    content: 'We are excited to announce...',
    days: 14,
  },
  'POST /x-news/{target}': {
    title: 'Account Update',
    content: 'Your account settings have been updated.',
  },
  'POST /x-config': {
    MODEL_MAPPER: 'gpt-3.5-turbo=gpt-4,claude-2=claude-3',
    LEVEL_MAPPER: 'gpt-4=2,claude-3=2',
    RESOURCES: '/v1/chat/completions,/v1/embeddings',
  },
}

/** Bodies not in the XAI reference: the smallest call each provider API takes, and a control call. */
const hello = [{ role: 'user', content: 'Hello' }]
export const XGATE_EXAMPLES: Record<string, unknown> = {
  'POST /x-api/{service}/{method}': { pattern: '', reset: false },
  'POST /v1/chat/completions': { model: 'gpt-4o-mini', messages: hello },
  'POST /v1/completions': { model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello', max_tokens: 16 },
  'POST /v1/embeddings': { model: 'text-embedding-3-small', input: 'Hello' },
  'POST /v1/responses': { model: 'gpt-4o-mini', input: 'Hello' },
  'POST /v1/moderations': { input: 'Hello' },
  'POST /v1/images/generations': { prompt: 'a lighthouse at dawn', size: '256x256' },
  'POST /v1/audio/speech': { model: 'tts-1', voice: 'alloy', input: 'Hello' },
  'POST /v1/messages': { model: 'claude-3-5-haiku-latest', max_tokens: 256, messages: hello },
  'POST /v1/messages/count_tokens': { model: 'claude-3-5-haiku-latest', messages: hello },
}

/**
 * Path parameter examples by name: the account and news target the body examples create, so a
 * POST /x-users tried first makes the other account routes answer from the same page.
 */
export const PATH_EXAMPLES: Record<string, string> = {
  id: 'prod-account',
  target: 'prod-account',
}

/** Path parameter examples for one path, where the name alone would mislead. */
export const PATH_EXAMPLES_BY_PATH: Record<string, Record<string, string>> = {
  '/x-keys/{id}': { id: '1' },
  '/x-api/{service}/{method}': { service: 'StatsService', method: 'QueryStats' },
}
