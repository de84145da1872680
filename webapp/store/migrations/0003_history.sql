-- History: one run per execution of a job, and what it did item by item.
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    job_name TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'schedule',
    status TEXT NOT NULL DEFAULT 'running',
    started_at TEXT NOT NULL,
    finished_at TEXT,
    progress_done INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER,
    progress_label TEXT,
    message TEXT,
    params TEXT,
    count_received INTEGER NOT NULL DEFAULT 0,
    count_sent INTEGER NOT NULL DEFAULT 0,
    count_skipped INTEGER NOT NULL DEFAULT 0,
    count_errors INTEGER NOT NULL DEFAULT 0,
    count_done INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_job_started ON runs (job_name, started_at);
CREATE INDEX runs_started ON runs (started_at);

CREATE TABLE run_items (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    reference TEXT,
    message TEXT,
    params TEXT,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution TEXT
);
CREATE INDEX run_items_created ON run_items (created_at);
CREATE INDEX run_items_run ON run_items (run_id);
CREATE INDEX run_items_job_created ON run_items (job_name, created_at);
CREATE INDEX run_items_status_created ON run_items (status, created_at);
CREATE INDEX run_items_kind_created ON run_items (kind, created_at);
