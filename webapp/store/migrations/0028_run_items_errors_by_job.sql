-- The history's most asked filter, one job's errors (“what failed in the Scrada pull?”), newest
-- first. Through (status, created_at) SQLite walked every job's errors to find that one's, about
-- 1.2 ms a page with 200,000 items (benchmarks/ui.py); through this it seeks them. Partial: only
-- errors are indexed, so the items a reception writes (30,000 at a time, nearly all received)
-- hardly pay for it.
-- history_queries names it, with `status = 'error'` as a literal (which a partial index matches
-- on any SQLite; a bound value, only where the planner looks at bindings).
CREATE INDEX run_items_errors_by_job ON run_items (job_name, created_at) WHERE status = 'error';
