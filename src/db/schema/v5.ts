// Schema version 5: limit windows keyed time first.
import type { Migration } from '../migrations'

export const v5: Migration = {
  version: 5,
  name: 'limit windows keyed time first, without rowid',
  // The write-behind upserts about one row per limit scope a call touches. Keyed scope first,
  // those land all over the B-tree (measured 13 µs a row at 2 million rows); keyed by kind and
  // bucket time first they land at its right edge (2 µs), and pruning is a range delete.
  // WITHOUT ROWID is SQLite's; the PostgreSQL variant keeps the same primary key.
  sql: `
  CREATE TABLE limit_windows_v5 (
  scope TEXT NOT NULL,
  kind TEXT NOT NULL,
  bucket_ms BIGINT NOT NULL,
  requests BIGINT NOT NULL,
  tokens BIGINT NOT NULL,
  PRIMARY KEY (kind, bucket_ms, scope)
  ) WITHOUT ROWID;
  INSERT INTO limit_windows_v5 (scope, kind, bucket_ms, requests, tokens)
  SELECT scope, kind, bucket_ms, requests, tokens FROM limit_windows;
  DROP TABLE limit_windows;
  ALTER TABLE limit_windows_v5 RENAME TO limit_windows;
  `,
}
