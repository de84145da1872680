-- Which sources feed each book (partner feed, Peppol inbox, webhooks, mailbox, drop folder).
-- The assumed partner feed may not exist on an account (Scrada's public API has no such calls): a
-- 404/405/501 marks it 'not-offered' here, and it is asked again only once `checked_at` is a day
-- old, so a pull of such an account costs no useless call and is not an error.
CREATE TABLE scrada_sources (
    company_id TEXT NOT NULL,           -- '' for the account itself (the partner's company list)
    book_kind TEXT NOT NULL,            -- '' for the account or the company as a whole
    book_id TEXT NOT NULL,
    source TEXT NOT NULL,               -- 'partner', 'api', 'webhook', 'mailbox', 'folder'
    state TEXT NOT NULL CHECK (state IN ('offered', 'not-offered', 'error')),
    checked_at TEXT NOT NULL,           -- when the source was last asked
    message TEXT,                       -- the last error (English msgid) and its params (JSON)
    params TEXT,
    PRIMARY KEY (company_id, book_kind, book_id, source)
) WITHOUT ROWID;

-- "Which source delivered this book, and when last" reads the deliveries by book and source.
CREATE INDEX scrada_deliveries_source ON scrada_deliveries (company_id, book_kind, book_id, source);
