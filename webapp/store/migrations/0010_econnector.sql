-- The e-connecteur (ECN-2 to ECN-10): CSV exchange with a web shop or any other program.

CREATE TABLE connectors (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    partner TEXT NOT NULL DEFAULT '',          -- "En liaison avec": the other program
    hidden INTEGER NOT NULL DEFAULT 0,         -- "Ne pas montrer dans les listes"
    mode TEXT NOT NULL DEFAULT 'csv' CHECK (mode IN ('csv')),
    import_dir TEXT NOT NULL DEFAULT '',
    export_dir TEXT NOT NULL DEFAULT '',
    -- Sends
    send_articles TEXT NOT NULL DEFAULT 'export' CHECK (send_articles IN ('export', 'filter', 'none')),
    article_filter TEXT NOT NULL DEFAULT '',   -- tags the article must carry, separated by spaces
    price_category_id INTEGER REFERENCES price_categories (id),
    unit_id INTEGER REFERENCES units (id),
    warehouse_id INTEGER REFERENCES warehouses (id),
    send_customers TEXT NOT NULL DEFAULT 'all' CHECK (send_customers IN ('all', 'filter', 'none')),
    customer_filter TEXT NOT NULL DEFAULT '',  -- family code of the customers sent
    send_contacts INTEGER NOT NULL DEFAULT 0,
    -- Receptions
    doc_type TEXT NOT NULL DEFAULT 'order' CHECK (doc_type IN ('order', 'delivery')),
    company_id INTEGER REFERENCES companies (id),
    site_id INTEGER REFERENCES sites (id),
    carrier_id INTEGER REFERENCES carriers (id),
    generate_payment INTEGER NOT NULL DEFAULT 0,
    customer_family_id INTEGER REFERENCES party_families (id),
    supplier_family_id INTEGER REFERENCES party_families (id),
    reception_update TEXT NOT NULL DEFAULT 'manual' CHECK (reception_update IN ('manual', 'startup')),
    -- CSV habits forced for this connector (empty: detected)
    csv_encoding TEXT NOT NULL DEFAULT '',
    csv_delimiter TEXT NOT NULL DEFAULT '',
    csv_decimal TEXT NOT NULL DEFAULT '',
    csv_date_format TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Correspondences (ECN-3, ECN-4): an outside code and the internal row it stands for.
CREATE TABLE connector_articles (
    connector_id INTEGER NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    external_code TEXT NOT NULL,
    variant_code TEXT NOT NULL DEFAULT '',
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (connector_id, external_code, variant_code)
) WITHOUT ROWID;
CREATE INDEX connector_articles_article ON connector_articles (article_id);

CREATE TABLE connector_customers (
    connector_id INTEGER NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    external_ref TEXT NOT NULL,
    party_id INTEGER NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    PRIMARY KEY (connector_id, external_ref)
) WITHOUT ROWID;
CREATE INDEX connector_customers_party ON connector_customers (party_id);

CREATE TABLE connector_codes (
    connector_id INTEGER NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('vat', 'unit', 'country')),
    external TEXT NOT NULL COLLATE NOCASE,
    internal TEXT NOT NULL,
    PRIMARY KEY (connector_id, kind, external)
) WITHOUT ROWID;

-- Documents integrated through a connector: a doc_ref is integrated once, ever.
CREATE TABLE connector_documents (
    connector_id INTEGER NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    doc_ref TEXT NOT NULL,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    file TEXT NOT NULL,
    integrated_at TEXT NOT NULL,
    PRIMARY KEY (connector_id, doc_ref)
) WITHOUT ROWID;

-- The connector's exchanges, for its history page (ECN-8): receptions, sends, errors.
CREATE TABLE connector_events (
    id INTEGER PRIMARY KEY,
    connector_id INTEGER NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('reception', 'send')),
    data_kind TEXT NOT NULL,                   -- document, customer, supplier, articles file, ...
    status TEXT NOT NULL CHECK (status IN ('done', 'error')),
    file TEXT,
    doc_ref TEXT,
    document_number TEXT,
    party_code TEXT,
    external_party TEXT,
    name TEXT,
    amount TEXT,
    message TEXT,
    params TEXT,
    run_id INTEGER,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution TEXT
);
CREATE INDEX connector_events_connector ON connector_events (connector_id, direction, created_at);
CREATE INDEX connector_events_errors ON connector_events (connector_id, created_at)
    WHERE status = 'error' AND resolved_at IS NULL;

-- Homonyms of an incoming customer are looked up by e-mail (the names use parties_kind_name).
CREATE INDEX parties_customer_email ON parties (lower(email)) WHERE kind = 'customer' AND email != '';
