// Schema version 6: usage records without the (account, time) index.
import type { Migration } from '../migrations'

export const v6: Migration = {
  version: 6,
  name: 'usage records without the unread (account, time) index',
  // Reports read the daily aggregates and their rollups (v4), never usage_records by account;
  // only pruning reads it, by time (usage_time). Keyed account first, each new record landed
  // somewhere inside that B-tree: 4.8 µs a record to write with it, 3.0 without (measured in
  // batches of 2,000, as the flusher writes them). Every proxied call pays this once.
  sql: `
  DROP INDEX IF EXISTS usage_account_time;
  `,
}
