// The report rollups on PostgreSQL (usage_accounts, usage_cum, usage_tree_daily, fed from
// usage_daily): v4's row triggers, the same effects as SQLite's, and v10's statement triggers
// that replace them. Their SQL is made here; pg.ts lists them among the schema versions.

export const ROLLUP_COLS = ['requests', 'prompt_tokens', 'completion_tokens', 'cached_tokens', 'cost_nano']

/** A DNA ('.1.5.9.') as the ids along it, root first. */
const ancestorsOf = (dna: string) => `unnest(string_to_array(btrim(${dna}, '.'), '.')::bigint[])`

/**
 * v4 on PostgreSQL: the same three rollups, filled from usage_daily, kept by plpgsql triggers with
 * the effects of SQLite's (usage_rollup_add is one SQLite trigger body). Concurrency: the running
 * totals need the previous day's value when a day first appears, which an upsert cannot take from a
 * row another transaction is adding. So a statement trigger takes one transaction-scoped advisory
 * lock before the statement touches any row: writers of usage_daily take turns per transaction,
 * which the subtree rollup imposes anyway (every account's usage lands on the root's row of the
 * day and model), and no row order can deadlock among them. The trigger statements see what the
 * previous lock holder committed under READ COMMITTED; REPEATABLE READ would read from before the
 * wait, so it is refused (SERIALIZABLE is left to PostgreSQL's own conflict checks, which abort
 * a transaction rather than let it write from a stale read).
 */
export function usageRollupsSql(): string {
  const cols = ROLLUP_COLS
  const params = cols.map((c) => `p_${c} BIGINT`).join(', ')
  const args = (r: 'NEW' | 'OLD', amount: (c: string) => string) =>
    `${r}.account_id, ${r}.day, ${r}.model, ${cols.map(amount).join(', ')}`
  const cumPrev = (c: string) => `COALESCE((SELECT ${c} FROM usage_cum
      WHERE account_id = p_account AND day < p_day ORDER BY day DESC LIMIT 1), 0)`
  const sameKey = 'NEW.day = OLD.day AND NEW.account_id = OLD.account_id AND NEW.model = OLD.model'
  return `
CREATE TABLE usage_accounts (
  account_id BIGINT PRIMARY KEY,
  dna TEXT COLLATE "C" NOT NULL, name TEXT COLLATE "C" NOT NULL,
  email TEXT COLLATE "C" NOT NULL
);
CREATE INDEX usage_accounts_dna ON usage_accounts(dna);

CREATE TABLE usage_cum (
  account_id BIGINT NOT NULL, day TEXT COLLATE "C" NOT NULL, requests BIGINT NOT NULL,
  cost_nano BIGINT NOT NULL,
  PRIMARY KEY (account_id, day)
);

CREATE TABLE usage_tree_daily (
  ancestor_id BIGINT NOT NULL, day TEXT COLLATE "C" NOT NULL, model TEXT COLLATE "C" NOT NULL,
  ${cols.map((c) => `${c} BIGINT NOT NULL DEFAULT 0`).join(',\n  ')},
  PRIMARY KEY (ancestor_id, day, model)
);

INSERT INTO usage_accounts (account_id, dna, name, email)
  SELECT id, dna, name, email FROM accounts WHERE id IN (SELECT account_id FROM usage_daily);
INSERT INTO usage_cum (account_id, day, requests, cost_nano)
  SELECT account_id, day, SUM(SUM(requests)) OVER w, SUM(SUM(cost_nano)) OVER w
  FROM usage_daily GROUP BY account_id, day
  WINDOW w AS (PARTITION BY account_id ORDER BY day);
INSERT INTO usage_tree_daily (ancestor_id, day, model, ${cols.join(', ')})
  SELECT j.id, u.day, u.model, ${cols.map((c) => `SUM(u.${c})`).join(', ')}
  FROM usage_daily u JOIN usage_accounts ua ON ua.account_id = u.account_id,
    ${ancestorsOf('ua.dna')} AS j(id)
  WHERE j.id <> u.account_id
  GROUP BY j.id, u.day, u.model;

-- Adds signed amounts of one usage_daily row to every rollup (one SQLite trigger body).
CREATE FUNCTION usage_rollup_add(p_account BIGINT, p_day TEXT, p_model TEXT, ${params})
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO usage_accounts (account_id, dna, name, email)
    SELECT id, dna, name, email FROM accounts WHERE id = p_account
    ON CONFLICT (account_id) DO NOTHING;
  INSERT INTO usage_cum (account_id, day, requests, cost_nano)
    VALUES (p_account, p_day, ${cumPrev('requests')}, ${cumPrev('cost_nano')})
    ON CONFLICT (account_id, day) DO NOTHING;
  UPDATE usage_cum SET requests = requests + p_requests, cost_nano = cost_nano + p_cost_nano
    WHERE account_id = p_account AND day >= p_day;
  INSERT INTO usage_tree_daily (ancestor_id, day, model, ${cols.join(', ')})
    SELECT j.id, p_day, p_model, ${cols.map((c) => `p_${c}`).join(', ')}
    FROM usage_accounts ua, ${ancestorsOf('ua.dna')} AS j(id)
    WHERE ua.account_id = p_account AND j.id <> p_account
    ON CONFLICT (ancestor_id, day, model) DO UPDATE SET
      ${cols.map((c) => `${c} = usage_tree_daily.${c} + excluded.${c}`).join(',\n      ')};
END $$;

CREATE FUNCTION usage_daily_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM usage_rollup_add(${args('NEW', (c) => `NEW.${c}`)});
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM usage_rollup_add(${args('OLD', (c) => `-OLD.${c}`)});
  ELSIF ${sameKey} THEN
    PERFORM usage_rollup_add(${args('NEW', (c) => `NEW.${c} - OLD.${c}`)});
  ELSE
    PERFORM usage_rollup_add(${args('OLD', (c) => `-OLD.${c}`)});
    PERFORM usage_rollup_add(${args('NEW', (c) => `NEW.${c}`)});
  END IF;
  RETURN NULL;
END $$;

-- Taken before the statement touches a row, held to commit (see usageRollupsSql).
CREATE FUNCTION usage_daily_rollup_turn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_isolation') = 'repeatable read' THEN
    RAISE EXCEPTION 'usage_daily is written under READ COMMITTED or SERIALIZABLE, not REPEATABLE READ';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('xgate usage rollups', 0));
  RETURN NULL;
END $$;

CREATE TRIGGER usage_daily_rollup_turn BEFORE INSERT OR UPDATE OR DELETE ON usage_daily
  FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_rollup_turn();
CREATE TRIGGER usage_daily_rollup_insert AFTER INSERT ON usage_daily
  FOR EACH ROW EXECUTE FUNCTION usage_daily_rollup();
CREATE TRIGGER usage_daily_rollup_update AFTER UPDATE ON usage_daily
  FOR EACH ROW WHEN (${sameKey}) EXECUTE FUNCTION usage_daily_rollup();
CREATE TRIGGER usage_daily_rollup_rekey AFTER UPDATE ON usage_daily
  FOR EACH ROW WHEN (NOT (${sameKey})) EXECUTE FUNCTION usage_daily_rollup();
CREATE TRIGGER usage_daily_rollup_delete AFTER DELETE ON usage_daily
  FOR EACH ROW EXECUTE FUNCTION usage_daily_rollup();
`
}

// The primary key is the B-tree PostgreSQL keeps too: time first, as v5 says why.
/**
 * v10, PostgreSQL's own (SQLite has row triggers only, and its in-process writes afford them): v4's
 * rollups kept per statement. A statement's rows (transition tables) become signed amounts summed
 * per (account, day, model); one set statement per rollup applies them, with the row triggers'
 * results in any row order (usage_cum: a new day starts from the latest earlier day as it was
 * before the statement, then each day gains the changes on or before it). An upsert fires the
 * INSERT trigger with the rows it inserted and the UPDATE one with those it updated: each row counts
 * once. The turn trigger stays, for the reasons given at usageRollupsSql.
 */
export function statementRollupsSql(): string {
  const cols = ROLLUP_COLS
  const rows = (t: string, sign = '') =>
    `SELECT account_id, day, model, ${cols.map((c) => `${sign}${c} AS ${c}`).join(', ')} FROM ${t}`
  const fn = (op: string, tables: string, guard: string, ...parts: string[]) => {
    // One table's rows have distinct keys (usage_daily's primary key); an update's two are summed.
    const d = parts.length === 1 ? `d AS (${parts[0]})`
      : `d AS (SELECT account_id, day, model, ${cols.map((c) => `SUM(${c}) AS ${c}`).join(', ')}
      FROM (${parts.join(' UNION ALL ')}) x GROUP BY account_id, day, model)`
    // Every read of a table is an index lookup by the statement's keys (an array, a LATERAL with
    // LIMIT, an ON CONFLICT check): a plan cached while the tables were small may not scan them.
    const ids = 'ANY(ARRAY(SELECT DISTINCT account_id FROM d))'
    return `CREATE FUNCTION usage_daily_rollup_${op}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM ${guard}) THEN RETURN NULL; END IF;
  WITH ${d} INSERT INTO usage_accounts (account_id, dna, name, email)
    SELECT id, dna, name, email FROM accounts WHERE id = ANY(ARRAY(SELECT account_id FROM d
      EXCEPT SELECT account_id FROM usage_accounts WHERE account_id = ${ids}));
  -- One statement, one snapshot: days there before it gain the changes on or before them (up);
  -- a new day starts from the latest earlier day as it was, plus the changes up to it.
  WITH ${d}, k AS (SELECT account_id, day, SUM(requests) AS r, SUM(cost_nano) AS c FROM d
      GROUP BY account_id, day),
    run AS (SELECT account_id, day, LEAD(day) OVER w AS upto, SUM(r) OVER w AS r, SUM(c) OVER w AS c
      FROM k WINDOW w AS (PARTITION BY account_id ORDER BY day)),
    up AS (UPDATE usage_cum u SET requests = u.requests + run.r, cost_nano = u.cost_nano + run.c
      FROM run WHERE u.account_id = ${ids} AND u.day >= (SELECT MIN(day) FROM k)
        AND u.account_id = run.account_id AND u.day >= run.day
        AND (run.upto IS NULL OR u.day < run.upto) AND (run.r <> 0 OR run.c <> 0))
  INSERT INTO usage_cum (account_id, day, requests, cost_nano)
    SELECT run.account_id, run.day, COALESCE(p.requests, 0) + run.r, COALESCE(p.cost_nano, 0) + run.c
    FROM run LEFT JOIN LATERAL (SELECT day, requests, cost_nano FROM usage_cum c
      WHERE c.account_id = run.account_id AND c.day <= run.day ORDER BY c.day DESC LIMIT 1) p ON true
    WHERE p.day IS DISTINCT FROM run.day;
  WITH ${d} INSERT INTO usage_tree_daily (ancestor_id, day, model, ${cols.join(', ')})
    SELECT j.id, d.day, d.model, ${cols.map((c) => `SUM(d.${c})`).join(', ')}
    FROM d JOIN usage_accounts ua ON ua.account_id = d.account_id AND ua.account_id = ${ids},
      ${ancestorsOf('ua.dna')} AS j(id)
    WHERE j.id <> d.account_id GROUP BY j.id, d.day, d.model
    ON CONFLICT (ancestor_id, day, model) DO UPDATE SET
      ${cols.map((c) => `${c} = usage_tree_daily.${c} + excluded.${c}`).join(', ')};
  RETURN NULL;
END $$;
CREATE TRIGGER usage_daily_rollup_${op} AFTER ${op.toUpperCase()} ON usage_daily
  REFERENCING ${tables} FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_rollup_${op}();`
  }
  return `
${['insert', 'update', 'rekey', 'delete'].map((t) => `DROP TRIGGER usage_daily_rollup_${t} ON usage_daily;`).join('\n')}
DROP FUNCTION usage_daily_rollup();
DROP FUNCTION usage_rollup_add;
${fn('insert', 'NEW TABLE AS new_rows', 'new_rows', rows('new_rows'))}
${fn('update', 'OLD TABLE AS old_rows NEW TABLE AS new_rows', 'new_rows', rows('old_rows', '-'), rows('new_rows'))}
${fn('delete', 'OLD TABLE AS old_rows', 'old_rows', rows('old_rows', '-'))}
`
}

