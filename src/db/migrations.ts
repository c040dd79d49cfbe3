// Versioned schema migrations, applied in order at start inside one transaction each.
// SQL stays portable to PostgreSQL where that costs nothing: BIGINT for nano-USD and unix-ms
// columns, TEXT for JSON, no SQLite-only functions. (`INTEGER PRIMARY KEY` is SQLite's rowid
// alias; the PostgreSQL variant will spell it as an identity column.)
import type { Database } from 'bun:sqlite'

export type Migration = { version: number; name: string; sql: string }

export const MIGRATIONS: Migration[] = [
  {
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
  },
  {
    version: 2,
    name: 'upstream keys, usage records, daily aggregates, news, limit windows, alerts',
    sql: `
CREATE TABLE upstream_keys (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  secret_enc TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  secret_tail TEXT NOT NULL,
  level INTEGER NOT NULL DEFAULT 1,
  provider TEXT NOT NULL,
  type TEXT NOT NULL,
  status INTEGER NOT NULL DEFAULT 1,
  weight INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT,
  sleep_until BIGINT,
  requests BIGINT NOT NULL DEFAULT 0,
  errors BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX upstream_keys_level ON upstream_keys(level, type);

CREATE TABLE usage_records (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  account_id BIGINT NOT NULL,
  key_id BIGINT,
  endpoint TEXT NOT NULL,
  model TEXT,
  mapped_model TEXT,
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  cached_tokens BIGINT NOT NULL DEFAULT 0,
  total_tokens BIGINT NOT NULL DEFAULT 0,
  list_nano BIGINT NOT NULL DEFAULT 0,
  cost_nano BIGINT NOT NULL DEFAULT 0,
  status INTEGER NOT NULL,
  latency_ms BIGINT,
  ttfb_ms BIGINT,
  estimated INTEGER NOT NULL DEFAULT 0,
  client_ip TEXT
);
CREATE INDEX usage_account_time ON usage_records(account_id, created_at);
CREATE INDEX usage_time ON usage_records(created_at);

CREATE TABLE usage_daily (
  day TEXT NOT NULL,
  account_id BIGINT NOT NULL,
  model TEXT NOT NULL,
  requests BIGINT NOT NULL DEFAULT 0,
  prompt_tokens BIGINT NOT NULL DEFAULT 0,
  completion_tokens BIGINT NOT NULL DEFAULT 0,
  cached_tokens BIGINT NOT NULL DEFAULT 0,
  cost_nano BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (day, account_id, model)
);
CREATE INDEX usage_daily_account ON usage_daily(account_id, day);

CREATE TABLE news (
  id INTEGER PRIMARY KEY,
  target TEXT,
  title TEXT NOT NULL,
  content TEXT NOT NULL,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX news_target ON news(target, expires_at);

CREATE TABLE limit_windows (
  scope TEXT NOT NULL,
  kind TEXT NOT NULL,
  bucket_ms BIGINT NOT NULL,
  requests BIGINT NOT NULL,
  tokens BIGINT NOT NULL,
  PRIMARY KEY (scope, kind, bucket_ms)
);

CREATE TABLE month_spend (
  account_id BIGINT NOT NULL,
  month_ms BIGINT NOT NULL,
  spend_nano BIGINT NOT NULL,
  PRIMARY KEY (account_id, month_ms)
);

CREATE TABLE alert_state (
  account_id BIGINT PRIMARY KEY,
  soft_limit_month TEXT,
  low_balance INTEGER NOT NULL DEFAULT 0
);
`,
  },
]

/** Applies every migration newer than the database's version; each in its own transaction. */
export function migrate(db: Database, migrations: Migration[] = MIGRATIONS): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
  )
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }
  const current = row.v ?? 0
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  let applied = 0
  for (const m of migrations) {
    if (m.version <= current) continue
    db.transaction(() => {
      db.exec(m.sql)
      record.run(m.version, m.name, Date.now())
    })()
    applied++
  }
  return applied
}

export function schemaVersion(db: Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }
  return row.v ?? 0
}
