-- The DuckDB side of issue 21's contribution benchmark: the same account-months CSV, the same
-- interest contribution and one driver allocation, in SQL, on one thread.
--
-- Interest, per account: balance × (FTP − customer rate) for liabilities, × (customer rate −
-- FTP) for assets, × days / 365, rounded half up (away from zero) to the fen, in exact integer
-- arithmetic (fen × rate mantissa at 10 decimals × days, HUGEINT); the FTP rate in force is the
-- one of the account's product and term with the latest effective month on or before the
-- month (an ASOF join). Days: the month's calendar days (the generated file has no `days`).
-- Summed per customer, by side.
--
-- Allocation: the `marketing` pool over customers by their liability balances (the crate's
-- `balances` driver with side = liability), to the fen by largest remainder: each customer
-- gets floor(pool × weight / total), and the fen left over go one each to the largest
-- remainders, ties to the smaller customer id. (No earlier stage moves anything into
-- `marketing`, so the crate's lineage has the same shares.)
--
-- Written to one CSV, per customer: interest_asset, interest_liability, marketing, and
-- interest less marketing. `:data` and `:out` are replaced by the runner.
SET threads = 1;
SET preserve_insertion_order = false;

CREATE TEMP TABLE ftp AS
SELECT product, term, strptime(effective || '-01', '%Y-%m-%d')::DATE AS effective, rate
FROM read_csv(':data/ftp.csv', header = true,
    columns = {'product': 'VARCHAR', 'term': 'VARCHAR', 'effective': 'VARCHAR', 'rate': 'DECIMAL(18,10)'});

CREATE TEMP TABLE accounts AS
SELECT customer, product, coalesce(term, 'none') AS term, side,
       CAST(average_balance * 100 AS BIGINT) AS balance_fen, customer_rate,
       strptime(month || '-01', '%Y-%m-%d')::DATE AS month_start
FROM read_csv(':data/accounts.csv', header = true, columns = {
    'month': 'VARCHAR', 'customer': 'VARCHAR', 'account': 'VARCHAR', 'product': 'VARCHAR',
    'term': 'VARCHAR', 'side': 'VARCHAR', 'average_balance': 'DECIMAL(18,2)',
    'customer_rate': 'DECIMAL(18,10)', 'branch': 'VARCHAR', 'legal_entity': 'VARCHAR',
    'loan_class': 'VARCHAR', 'risk_weight': 'VARCHAR'});

COPY (
WITH priced AS (
    SELECT a.customer, a.side, a.balance_fen,
           CAST((CASE a.side WHEN 'asset' THEN a.customer_rate - f.rate ELSE f.rate - a.customer_rate END)
                * 10000000000 AS HUGEINT) AS spread,
           datediff('day', a.month_start, a.month_start + INTERVAL 1 MONTH) AS days
    FROM accounts a ASOF JOIN ftp f
      ON a.product = f.product AND a.term = f.term AND a.month_start >= f.effective
),
interest AS (
    SELECT customer, side,
           CAST(balance_fen AS HUGEINT) * spread * days AS n,
           CAST(10000000000 AS HUGEINT) * 365 AS d
    FROM priced
),
per_customer AS (
    SELECT customer,
           sum(CASE WHEN side = 'asset' THEN sign(n) * ((2 * abs(n) + d) // (2 * d)) ELSE 0 END) AS asset_fen,
           sum(CASE WHEN side = 'liability' THEN sign(n) * ((2 * abs(n) + d) // (2 * d)) ELSE 0 END) AS liability_fen
    FROM interest GROUP BY customer
),
pool AS (
    SELECT CAST(amount * 100 AS HUGEINT) AS fen
    FROM read_csv(':data/pools.csv', header = true,
        columns = {'month': 'VARCHAR', 'cost_centre': 'VARCHAR', 'amount': 'DECIMAL(18,2)'})
    WHERE cost_centre = 'marketing'
),
weights AS (
    SELECT customer, sum(balance_fen)::HUGEINT AS w FROM accounts WHERE side = 'liability' GROUP BY customer
),
shares AS (
    SELECT w.customer, (pool.fen * w.w) // t.total AS base, (pool.fen * w.w) % t.total AS remainder, pool.fen AS fen
    FROM weights w, pool, (SELECT sum(w) AS total FROM weights) t
),
ranked AS (
    SELECT customer, base,
           row_number() OVER (ORDER BY remainder DESC, customer) AS rank,
           max(fen) OVER () - sum(base) OVER () AS left_over
    FROM shares
),
allocated AS (
    SELECT customer, base + CASE WHEN rank <= left_over THEN 1 ELSE 0 END AS fen FROM ranked
)
SELECT p.customer,
       (CAST(p.asset_fen AS DECIMAL(18,0)) * 0.01)::DECIMAL(20,2) AS interest_asset,
       (CAST(p.liability_fen AS DECIMAL(18,0)) * 0.01)::DECIMAL(20,2) AS interest_liability,
       (CAST(coalesce(a.fen, 0) AS DECIMAL(18,0)) * 0.01)::DECIMAL(20,2) AS marketing,
       (CAST(p.asset_fen + p.liability_fen - coalesce(a.fen, 0) AS DECIMAL(18,0)) * 0.01)::DECIMAL(20,2) AS net
FROM per_customer p LEFT JOIN allocated a USING (customer)
ORDER BY p.customer
) TO ':out' (HEADER, DELIMITER ',');
