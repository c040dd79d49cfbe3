// Schema version 1: accounts, cards, ledger, operation log, settings.
import type { Migration } from '../migrations'

export const v1: Migration = {
  version: 1,
  name: 'accounts, cards, ledger, operation log, settings',
  sql: `
  CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  parent_id BIGINT REFERENCES accounts(id),
  name TEXT NOT NULL UNIQUE,
  email TEXT NOT NULL UNIQUE,
  alias TEXT NOT NULL,
  billing_email TEXT,
  status INTEGER NOT NULL DEFAULT 1,
  dna TEXT NOT NULL UNIQUE,
  level INTEGER NOT NULL DEFAULT 1,
  gear INTEGER NOT NULL DEFAULT 0,
  role INTEGER NOT NULL DEFAULT 0,
  tier INTEGER NOT NULL DEFAULT 0,
  factor DOUBLE PRECISION NOT NULL DEFAULT 0,
  rates DOUBLE PRECISION NOT NULL DEFAULT 1,
  hard_limit_nano BIGINT NOT NULL DEFAULT 0,
  soft_limit_nano BIGINT NOT NULL DEFAULT 0,
  rpm BIGINT NOT NULL DEFAULT 0,
  rph BIGINT NOT NULL DEFAULT 0,
  rpd BIGINT NOT NULL DEFAULT 0,
  tpm BIGINT NOT NULL DEFAULT 0,
  tph BIGINT NOT NULL DEFAULT 0,
  tpd BIGINT NOT NULL DEFAULT 0,
  model_limits TEXT,
  allow_ips TEXT,
  allow_models TEXT,
  allow_levels TEXT,
  resources TEXT,
  model_mapper TEXT,
  level_mapper TEXT,
  child_limit BIGINT NOT NULL DEFAULT 0,
  key_hash TEXT NOT NULL UNIQUE,
  key_tail TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
  );
  CREATE INDEX accounts_parent ON accounts(parent_id, id);
  CREATE INDEX accounts_level ON accounts(level);

  CREATE TABLE cards (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  amount_nano BIGINT NOT NULL,
  balance_nano BIGINT NOT NULL,
  granted_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  reference TEXT
  );
  CREATE INDEX cards_account ON cards(account_id, expires_at);

  -- Append-only. Rows outlive a deleted account (no foreign key) so history stays whole.
  CREATE TABLE ledger (
  id INTEGER PRIMARY KEY,
  account_id BIGINT NOT NULL,
  delta_nano BIGINT NOT NULL,
  reason TEXT NOT NULL,
  ref TEXT,
  created_at BIGINT NOT NULL
  );
  CREATE INDEX ledger_account ON ledger(account_id);

  CREATE TABLE op_logs (
  id INTEGER PRIMARY KEY,
  action TEXT NOT NULL,
  operator_id BIGINT NOT NULL,
  operator_dna TEXT NOT NULL,
  target_id BIGINT,
  target_dna TEXT,
  details TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'success',
  created_at BIGINT NOT NULL
  );
  CREATE INDEX op_logs_operator ON op_logs(operator_id, id);
  CREATE INDEX op_logs_target_dna ON op_logs(target_dna, id);

  CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
  );
  `,
}
