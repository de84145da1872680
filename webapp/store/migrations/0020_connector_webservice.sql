-- The e-connecteur's webservice mode (issue 15): a PrestaShop shop reached over its webservice.
-- The key lives in the vault (never here); the shop address, the header fallback and the order
-- states to take are plain settings.
--
-- connectors is rebuilt because SQLite cannot change a CHECK in place. Foreign keys are on during
-- migrations, so dropping a parent would cascade into its children: the four tables that refer to
-- connectors are rebuilt first, referring to connectors_new, and the old connectors is dropped
-- once nothing refers to it. Renaming connectors_new then rewrites their REFERENCES.
CREATE TABLE connectors_new (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    partner TEXT NOT NULL DEFAULT '',          -- "En liaison avec": the other program
    hidden INTEGER NOT NULL DEFAULT 0,         -- "Ne pas montrer dans les listes"
    mode TEXT NOT NULL DEFAULT 'csv' CHECK (mode IN ('csv', 'webservice')),
    import_dir TEXT NOT NULL DEFAULT '',
    export_dir TEXT NOT NULL DEFAULT '',
    -- Webservice mode: the shop's address (the API is SHOP_URL/api/), the order states taken,
    -- and whether the key travels as ws_key= for hosts that strip the Authorization header.
    shop_url TEXT NOT NULL DEFAULT '',
    use_ws_key INTEGER NOT NULL DEFAULT 0,
    order_states TEXT NOT NULL DEFAULT '',     -- PrestaShop state ids, e.g. "2,3"
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

INSERT INTO connectors_new (id, code, partner, hidden, mode, import_dir, export_dir, send_articles,
    article_filter, price_category_id, unit_id, warehouse_id, send_customers, customer_filter,
    send_contacts, doc_type, company_id, site_id, carrier_id, generate_payment, customer_family_id,
    supplier_family_id, reception_update, csv_encoding, csv_delimiter, csv_decimal,
    csv_date_format, created_at, updated_at)
SELECT id, code, partner, hidden, mode, import_dir, export_dir, send_articles,
    article_filter, price_category_id, unit_id, warehouse_id, send_customers, customer_filter,
    send_contacts, doc_type, company_id, site_id, carrier_id, generate_payment, customer_family_id,
    supplier_family_id, reception_update, csv_encoding, csv_delimiter, csv_decimal,
    csv_date_format, created_at, updated_at
FROM connectors;

CREATE TABLE connector_articles_new (
    connector_id INTEGER NOT NULL REFERENCES connectors_new (id) ON DELETE CASCADE,
    external_code TEXT NOT NULL,
    variant_code TEXT NOT NULL DEFAULT '',
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    PRIMARY KEY (connector_id, external_code, variant_code)
) WITHOUT ROWID;
INSERT INTO connector_articles_new (connector_id, external_code, variant_code, article_id)
SELECT connector_id, external_code, variant_code, article_id FROM connector_articles;
DROP TABLE connector_articles;
ALTER TABLE connector_articles_new RENAME TO connector_articles;
CREATE INDEX connector_articles_article ON connector_articles (article_id);

CREATE TABLE connector_customers_new (
    connector_id INTEGER NOT NULL REFERENCES connectors_new (id) ON DELETE CASCADE,
    external_ref TEXT NOT NULL,
    party_id INTEGER NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    PRIMARY KEY (connector_id, external_ref)
) WITHOUT ROWID;
INSERT INTO connector_customers_new (connector_id, external_ref, party_id)
SELECT connector_id, external_ref, party_id FROM connector_customers;
DROP TABLE connector_customers;
ALTER TABLE connector_customers_new RENAME TO connector_customers;
CREATE INDEX connector_customers_party ON connector_customers (party_id);

CREATE TABLE connector_codes_new (
    connector_id INTEGER NOT NULL REFERENCES connectors_new (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('vat', 'unit', 'country')),
    external TEXT NOT NULL COLLATE NOCASE,
    internal TEXT NOT NULL,
    PRIMARY KEY (connector_id, kind, external)
) WITHOUT ROWID;
INSERT INTO connector_codes_new (connector_id, kind, external, internal)
SELECT connector_id, kind, external, internal FROM connector_codes;
DROP TABLE connector_codes;
ALTER TABLE connector_codes_new RENAME TO connector_codes;

CREATE TABLE connector_documents_new (
    connector_id INTEGER NOT NULL REFERENCES connectors_new (id) ON DELETE CASCADE,
    doc_ref TEXT NOT NULL,
    document_id INTEGER NOT NULL REFERENCES documents (id),
    file TEXT NOT NULL,
    integrated_at TEXT NOT NULL,
    PRIMARY KEY (connector_id, doc_ref)
) WITHOUT ROWID;
INSERT INTO connector_documents_new (connector_id, doc_ref, document_id, file, integrated_at)
SELECT connector_id, doc_ref, document_id, file, integrated_at FROM connector_documents;
DROP TABLE connector_documents;
ALTER TABLE connector_documents_new RENAME TO connector_documents;

DROP TABLE connectors;
ALTER TABLE connectors_new RENAME TO connectors;
