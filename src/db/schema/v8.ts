// Schema version 8: concurrency caps (accounts and upstream keys) and cache-write tokens in usage.
import type { Migration } from '../migrations'

export const v8: Migration = {
  version: 8,
  name: 'concurrency caps; cache-write tokens in usage',
  // concurrency: calls in flight at once, 0 = unlimited (accounts: capped down the tree like RPM).
  // cache_write_tokens: prompt tokens written to a provider's prompt cache (billed at the
  // cache-write price); part of prompt_tokens, like cached_tokens. The 1-hour share is kept apart.
  sql: `
  ALTER TABLE accounts ADD COLUMN concurrency BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE upstream_keys ADD COLUMN concurrency BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE usage_records ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE usage_records ADD COLUMN cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE usage_daily ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0;
  `,
}
