-- One history and one task mechanism (issue 13): every run may be about one thing (a connector's
-- code, an import's kind), and a task started from a page leaves its result for that page.
ALTER TABLE runs ADD COLUMN subject TEXT;
-- JSON the run leaves for the page that shows it (an analysis to confirm), kept with the run.
ALTER TABLE runs ADD COLUMN result TEXT;
ALTER TABLE run_items ADD COLUMN subject TEXT;
-- At most one running task per (kind, subject) is checked on this index at every start.
CREATE INDEX runs_running_subject ON runs (job_name, subject) WHERE status = 'running';
-- A connector's history page lists its items by date.
CREATE INDEX run_items_subject_created ON run_items (subject, created_at) WHERE subject IS NOT NULL;
