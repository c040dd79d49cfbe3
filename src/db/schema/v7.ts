// Schema version 7: each admin ledger row records its account's Rates at the time of the row.
import type { Migration } from '../migrations'

export const v7: Migration = {
  version: 7,
  name: 'ledger rows carry the Rates of their account (conservation check)',
  // A row's real value is delta_nano / rates. `xgate check` compares, per operation between two
  // accounts, the real value received with the real value paid. NULL: written before this version,
  // or a usage row (one account, no counterpart), which the check does not read.
  sql: `
  ALTER TABLE ledger ADD COLUMN rates REAL;
  CREATE INDEX ledger_ref ON ledger(ref) WHERE rates IS NOT NULL;
  `,
}
