-- Scrada pull (SCR-1 to SCR-7): companies and their books, what was delivered, webhook events, and
-- the per-run log by company and book.

CREATE TABLE scrada_companies (
    id TEXT PRIMARY KEY,                -- Scrada's company id (a uuid)
    company_number TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    vat_number TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL CHECK (source IN ('configured', 'partner', 'webhook')),
    selected INTEGER NOT NULL DEFAULT 1,
    first_seen_at TEXT NOT NULL,
    refreshed_at TEXT
);

CREATE TABLE scrada_books (
    company_id TEXT NOT NULL REFERENCES scrada_companies (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('daily-receipts', 'cash-book', 'peppol-inbound')),
    id TEXT NOT NULL,                   -- journal id, cash book id, or 'peppol' for the inbound box
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    selected INTEGER NOT NULL DEFAULT 1,
    -- Partner feed cursor: the highest sequence whose document is delivered (or quarantined).
    cursor INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (company_id, kind, id)
) WITHOUT ROWID;

-- One row per document ever handled; the unique key is what makes a delivery happen once.
CREATE TABLE scrada_deliveries (
    id INTEGER PRIMARY KEY,
    company_id TEXT NOT NULL,
    book_kind TEXT NOT NULL,
    book_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('delivered', 'quarantined')),
    path TEXT NOT NULL,                 -- relative to the root folder
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    document_date TEXT,
    reason TEXT,                        -- why it was quarantined (msgid) and its params
    params TEXT,
    source TEXT NOT NULL,               -- 'api', 'partner' or 'webhook'
    run_id INTEGER,
    delivered_at TEXT NOT NULL,
    confirmed_at TEXT,                  -- Peppol inbound: confirmed to Scrada after the write
    UNIQUE (company_id, book_kind, book_id, document_id)
);
CREATE INDEX scrada_deliveries_book ON scrada_deliveries (company_id, book_kind, book_id, delivered_at);
-- The same bytes from two sources (the feed and a webhook) are one document.
CREATE INDEX scrada_deliveries_content ON scrada_deliveries (company_id, book_kind, sha256);

CREATE TABLE scrada_webhook_events (
    event_id TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    company_id TEXT NOT NULL,
    delivery_id INTEGER,
    received_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE scrada_log (
    run_id INTEGER NOT NULL,
    company_id TEXT NOT NULL,
    book_kind TEXT NOT NULL,
    book_id TEXT NOT NULL,
    book_name TEXT NOT NULL,
    company_name TEXT NOT NULL,
    delivered INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,
    quarantined INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, company_id, book_kind, book_id)
) WITHOUT ROWID;
CREATE INDEX scrada_log_book ON scrada_log (company_id, book_kind, book_id, run_id);
