// Schema version 2: keys, usage, news, limits, alerts.
import type { Migration } from '../migrations'

export const v2: Migration = {
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
}
