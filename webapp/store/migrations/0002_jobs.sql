-- Scheduled processes: definitions are ours; APScheduler only holds them in memory.
CREATE TABLE jobs (
    name TEXT PRIMARY KEY,
    trigger_kind TEXT NOT NULL CHECK (trigger_kind IN ('interval', 'cron')),
    trigger_value TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    running_run_id INTEGER,
    running_since TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
