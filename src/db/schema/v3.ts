// Schema version 3: account list indexes.
import type { Migration } from '../migrations'

export const v3: Migration = {
  version: 3,
  name: 'account lists: filter indexes over subtrees, last CreditGranted, account ID mark',
  sql: `
  -- Lists page a subtree by DNA range; a filter L/G/R/T/F{n} pages the same range within one value.
  DROP INDEX accounts_level;
  CREATE INDEX accounts_level_dna ON accounts(level, dna);
  CREATE INDEX accounts_gear_dna ON accounts(gear, dna);
  CREATE INDEX accounts_role_dna ON accounts(role, dna);
  CREATE INDEX accounts_tier_dna ON accounts(tier, dna);
  CREATE INDEX accounts_factor_dna ON accounts(factor, dna);
  -- The last funding (+) or deduction (-) in the account's book units, shown as CreditGranted.
  ALTER TABLE accounts ADD COLUMN credit_granted_nano BIGINT NOT NULL DEFAULT 0;
  -- The highest account ID ever given. A rowid alone would hand a deleted account's ID to the next
  -- account, mixing two accounts' ledger, usage and log rows; new IDs start above this mark.
  CREATE TABLE account_id_mark (last BIGINT NOT NULL);
  INSERT INTO account_id_mark (last) SELECT COALESCE(MAX(id), 0) FROM accounts;
  `,
}
