// Schema version 9: subtree pages read from an index alone.
import type { Migration } from '../migrations'

export const v9: Migration = {
  version: 9,
  name: 'subtree paging index (dna, id)',
  // /x-dna pages a subtree's ids in DNA order with OFFSET: with (dna, id) the page is read from the
  // index alone. SQLite's dna index already holds the rowid; PostgreSQL's does not, and sorted the
  // whole range instead (BENCHMARKS.md, 2026-12-03). The same index on both keeps the schemas alike.
  sql: `
  CREATE INDEX accounts_dna_id ON accounts(dna, id);
  `,
}
