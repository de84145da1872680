-- Alerts Scrada raises about a client company (journal/linesMissing: the shop's cash register has
-- sent no daily-receipt lines since a date), shown on the dashboard until a newer daily receipt of
-- that company arrives (alerts.py), and which company each webhook event was filed under.

CREATE TABLE scrada_alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('lines-missing')),
    company_id TEXT NOT NULL,           -- Scrada's id as the event names it (maybe not known yet)
    journal_id TEXT NOT NULL DEFAULT '',
    since TEXT NOT NULL,                -- ISO date of the last lines Scrada received
    raised_at TEXT NOT NULL,
    cleared_at TEXT                     -- set when a newer daily receipt was delivered
);
-- At most one open alert per company and journal: a repeated event moves its date.
CREATE UNIQUE INDEX scrada_alerts_open ON scrada_alerts (kind, company_id, journal_id)
    WHERE cleared_at IS NULL;

-- The company a webhook's document was filed under (read from the document). An event header that
-- named another company is a partner-level header: it never chooses a company afterwards.
ALTER TABLE scrada_webhook_events ADD COLUMN filed_under TEXT;
