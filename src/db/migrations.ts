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
  {
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
  },
  {
    version: 4,
    name: 'usage rollups for reports: accounts with usage, running totals, subtree daily totals',
    sql: usageRollupsSql(),
  },
  {
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

/**
 * Reports read rollups that triggers keep in step with `usage_daily`, whoever writes it:
 * `usage_accounts` (who ever had usage, with the DNA and names of the time, so deleted accounts
 * stay in their ancestors' reports), `usage_cum` (each account's running totals through a day, so
 * any range is two lookups per account) and `usage_tree_daily` (per strict ancestor, day and
 * model, so a subtree's daily series is one range read). SQLite-specific: `json_each` turns a
 * DNA into its ancestors' ids.
 */
function usageRollupsSql(): string {
  const cols = ['requests', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_nano']
  /** Adds `sign` × the amounts of row `r` (NEW or OLD) to every rollup. */
  const apply = (r: 'NEW' | 'OLD', sign: '+' | '-', amount: (c: string) => string) => `
  INSERT INTO usage_accounts (account_id, dna, name, email)
    SELECT id, dna, name, email FROM accounts WHERE id = ${r}.account_id
      AND NOT EXISTS (SELECT 1 FROM usage_accounts WHERE account_id = ${r}.account_id);
  INSERT INTO usage_cum (account_id, day, requests, cost_nano)
    SELECT ${r}.account_id, ${r}.day, ${['requests', 'cost_nano'].map((c) => `COALESCE((SELECT ${c}
      FROM usage_cum WHERE account_id = ${r}.account_id AND day < ${r}.day
      ORDER BY day DESC LIMIT 1), 0)`).join(', ')}
    WHERE NOT EXISTS (SELECT 1 FROM usage_cum
      WHERE account_id = ${r}.account_id AND day = ${r}.day);
  UPDATE usage_cum SET requests = requests ${sign} (${amount('requests')}),
    cost_nano = cost_nano ${sign} (${amount('cost_nano')})
    WHERE account_id = ${r}.account_id AND day >= ${r}.day;
  INSERT INTO usage_tree_daily (ancestor_id, day, model, ${cols.join(', ')})
    SELECT j.value, ${r}.day, ${r}.model, ${cols.map((c) => `${sign}(${amount(c)})`).join(', ')}
    FROM usage_accounts ua, json_each('[' || replace(trim(ua.dna, '.'), '.', ',') || ']') j
    WHERE ua.account_id = ${r}.account_id AND j.value <> ${r}.account_id
    ON CONFLICT (ancestor_id, day, model) DO UPDATE SET
      ${cols.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')};`
  const sameKey = 'NEW.day = OLD.day AND NEW.account_id = OLD.account_id AND NEW.model = OLD.model'
  return `
CREATE TABLE usage_accounts (
  account_id INTEGER PRIMARY KEY,
  dna TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL
);
CREATE INDEX usage_accounts_dna ON usage_accounts(dna);

CREATE TABLE usage_cum (
  account_id BIGINT NOT NULL,
  day TEXT NOT NULL,
  requests BIGINT NOT NULL,
  cost_nano BIGINT NOT NULL,
  PRIMARY KEY (account_id, day)
) WITHOUT ROWID;

CREATE TABLE usage_tree_daily (
  ancestor_id BIGINT NOT NULL,
  day TEXT NOT NULL,
  model TEXT NOT NULL,
  ${cols.map((c) => `${c} BIGINT NOT NULL DEFAULT 0`).join(',\n  ')},
  PRIMARY KEY (ancestor_id, day, model)
) WITHOUT ROWID;

INSERT INTO usage_accounts (account_id, dna, name, email)
  SELECT id, dna, name, email FROM accounts WHERE id IN (SELECT account_id FROM usage_daily);
INSERT INTO usage_cum (account_id, day, requests, cost_nano)
  SELECT account_id, day, SUM(SUM(requests)) OVER w, SUM(SUM(cost_nano)) OVER w
  FROM usage_daily GROUP BY account_id, day
  WINDOW w AS (PARTITION BY account_id ORDER BY day);
INSERT INTO usage_tree_daily (ancestor_id, day, model, ${cols.join(', ')})
  SELECT j.value, u.day, u.model, ${cols.map((c) => `SUM(u.${c})`).join(', ')}
  FROM usage_daily u JOIN usage_accounts ua ON ua.account_id = u.account_id,
    json_each('[' || replace(trim(ua.dna, '.'), '.', ',') || ']') j
  WHERE j.value <> u.account_id
  GROUP BY j.value, u.day, u.model;

CREATE TRIGGER usage_daily_rollup_insert AFTER INSERT ON usage_daily BEGIN${apply(
    'NEW', '+', (c) => `NEW.${c}`)}
END;
CREATE TRIGGER usage_daily_rollup_update AFTER UPDATE ON usage_daily WHEN ${sameKey} BEGIN${apply(
    'NEW', '+', (c) => `NEW.${c} - OLD.${c}`)}
END;
CREATE TRIGGER usage_daily_rollup_rekey AFTER UPDATE ON usage_daily
WHEN NOT (${sameKey}) BEGIN${apply('OLD', '-', (c) => `OLD.${c}`)}${apply('NEW', '+', (c) => `NEW.${c}`)}
END;
CREATE TRIGGER usage_daily_rollup_delete AFTER DELETE ON usage_daily BEGIN${apply(
    'OLD', '-', (c) => `OLD.${c}`)}
END;
`
}
