// Schema version 4: usage rollups for reports.
import type { Migration } from '../migrations'

export const v4: Migration = {
  version: 4,
  name: 'usage rollups for reports: accounts with usage, running totals, subtree daily totals',
  sql: usageRollupsSql(),
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
    SELECT ${r}.account_id, ${r}.day, ${['requests', 'cost_nano']
      .map(
        (c) => `COALESCE((SELECT ${c}
      FROM usage_cum WHERE account_id = ${r}.account_id AND day < ${r}.day
      ORDER BY day DESC LIMIT 1), 0)`,
      )
      .join(', ')}
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
    'NEW',
    '+',
    (c) => `NEW.${c}`,
  )}
END;
CREATE TRIGGER usage_daily_rollup_update AFTER UPDATE ON usage_daily WHEN ${sameKey} BEGIN${apply(
    'NEW',
    '+',
    (c) => `NEW.${c} - OLD.${c}`,
  )}
END;
CREATE TRIGGER usage_daily_rollup_rekey AFTER UPDATE ON usage_daily
WHEN NOT (${sameKey}) BEGIN${apply('OLD', '-', (c) => `OLD.${c}`)}${apply('NEW', '+', (c) => `NEW.${c}`)}
END;
CREATE TRIGGER usage_daily_rollup_delete AFTER DELETE ON usage_daily BEGIN${apply(
    'OLD',
    '-',
    (c) => `OLD.${c}`,
  )}
END;
`
}
