-- Documents filed by the company they name (identify.py) and cash-book continuity (continuity.py).

-- scrada_books is rebuilt (SQLite cannot change a CHECK in place) for two things: the purchase-
-- invoice book of Scrada's purchaseInvoice/new webhook, and the account of a cash book, which
-- files a CODA statement under its company when the statement names no company number. No table
-- refers to scrada_books, so dropping the old one cascades nowhere.
CREATE TABLE scrada_books_new (
    company_id TEXT NOT NULL REFERENCES scrada_companies (id) ON DELETE CASCADE,
    kind TEXT NOT NULL
        CHECK (kind IN ('daily-receipts', 'cash-book', 'peppol-inbound', 'purchase-invoices')),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    selected INTEGER NOT NULL DEFAULT 1,
    cursor INTEGER NOT NULL DEFAULT 0,
    iban TEXT NOT NULL DEFAULT '',      -- compact IBAN of a cash book's account, '' when unknown
    PRIMARY KEY (company_id, kind, id)
) WITHOUT ROWID;
INSERT INTO scrada_books_new (company_id, kind, id, name, active, selected, cursor)
    SELECT company_id, kind, id, name, active, selected, cursor FROM scrada_books;
DROP TABLE scrada_books;
ALTER TABLE scrada_books_new RENAME TO scrada_books;
CREATE INDEX scrada_books_iban ON scrada_books (iban) WHERE iban != '';

CREATE INDEX scrada_companies_number ON scrada_companies (company_number)
    WHERE company_number != '';

-- Every CODA statement delivered, by account: numbers restart at 1 each year, hence the year.
CREATE TABLE scrada_statements (
    account TEXT NOT NULL,              -- compact IBAN (or the foreign account as written)
    year INTEGER NOT NULL,              -- of the statement's new-balance date
    number INTEGER NOT NULL,            -- record 1 columns 3-5
    company_id TEXT NOT NULL,
    statement_date TEXT NOT NULL,       -- ISO date of the new balance
    old_balance TEXT NOT NULL,          -- exact decimals as text
    new_balance TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (account, year, number)
) WITHOUT ROWID;
CREATE INDEX scrada_statements_company ON scrada_statements (company_id);

-- Gaps and breaks between consecutive statements (anchored at the later one: year, number), and
-- a cash book's current balance that differs from its last statement ('balance'). A gap or break
-- is resolved when a statement arrives between its two statements; a balance difference when a
-- later comparison agrees; a break can also be resolved by hand.
CREATE TABLE scrada_continuity_problems (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL,
    company_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('gap', 'break', 'balance')),
    year INTEGER,
    number INTEGER,
    message TEXT NOT NULL,              -- English msgid, translated when shown
    params TEXT NOT NULL,               -- JSON
    found_at TEXT NOT NULL,
    resolved_at TEXT
);
CREATE INDEX scrada_continuity_open ON scrada_continuity_problems (account, year, number)
    WHERE resolved_at IS NULL;
