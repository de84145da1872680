-- The back office ("Gestion Commerciale"): reference tables, articles, customers and suppliers,
-- documents, payment methods, POS registers and users.
-- Money and quantities are REAL holding rounded decimals (prices 4 places, totals 2, quantities 3);
-- code reads them back through Decimal(str(value)). Codes are unique without regard to case.

CREATE TABLE companies (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    company_number TEXT,
    vat_number TEXT,
    address TEXT,
    postcode TEXT,
    city TEXT,
    country TEXT,
    is_default INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sites (
    id INTEGER PRIMARY KEY,
    company_id INTEGER NOT NULL REFERENCES companies (id),
    code TEXT NOT NULL COLLATE NOCASE,
    name TEXT NOT NULL,
    address TEXT,
    postcode TEXT,
    city TEXT,
    country TEXT,
    UNIQUE (company_id, code)
);

CREATE TABLE warehouses (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    site_id INTEGER REFERENCES sites (id),
    is_default INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE carriers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL
);

-- ISO 3166-1, filled by the next migration.
CREATE TABLE countries (
    code TEXT PRIMARY KEY COLLATE NOCASE,
    alpha3 TEXT NOT NULL,
    numeric TEXT NOT NULL,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL
);

CREATE TABLE vat_rates (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    label TEXT NOT NULL,
    rate REAL NOT NULL,
    country TEXT,
    valid_from TEXT,
    valid_to TEXT
);

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    label TEXT NOT NULL,
    decimals INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE price_categories (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    label TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE article_families (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    label TEXT NOT NULL
);

CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    label TEXT NOT NULL,
    family_id INTEGER REFERENCES article_families (id),
    unit_id INTEGER NOT NULL REFERENCES units (id),
    vat_rate_id INTEGER NOT NULL REFERENCES vat_rates (id),
    barcode TEXT,
    export INTEGER NOT NULL DEFAULT 1,
    -- Free tags, lower case, separated by single spaces: what connectors' custom filters match.
    tags TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX articles_family ON articles (family_id);
CREATE INDEX articles_barcode ON articles (barcode) WHERE barcode IS NOT NULL;
CREATE INDEX articles_label ON articles (label COLLATE NOCASE);

CREATE TABLE article_prices (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    price_category_id INTEGER NOT NULL REFERENCES price_categories (id),
    price_excl_vat REAL NOT NULL,
    PRIMARY KEY (article_id, price_category_id)
) WITHOUT ROWID;

CREATE TABLE stock (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    warehouse_id INTEGER NOT NULL REFERENCES warehouses (id),
    quantity REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, warehouse_id)
) WITHOUT ROWID;

CREATE VIRTUAL TABLE articles_fts USING fts5 (
    code, label, barcode, tags,
    content = 'articles', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, code, label, barcode, tags)
    VALUES (new.id, new.code, new.label, new.barcode, new.tags);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, code, label, barcode, tags)
    VALUES ('delete', old.id, old.code, old.label, old.barcode, old.tags);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF code, label, barcode, tags ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, code, label, barcode, tags)
    VALUES ('delete', old.id, old.code, old.label, old.barcode, old.tags);
    INSERT INTO articles_fts (rowid, code, label, barcode, tags)
    VALUES (new.id, new.code, new.label, new.barcode, new.tags);
END;

-- Customers and suppliers share one table: a "party" of kind 'customer' or 'supplier'.
CREATE TABLE party_families (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('customer', 'supplier')),
    code TEXT NOT NULL COLLATE NOCASE,
    label TEXT NOT NULL,
    UNIQUE (kind, code)
);

CREATE TABLE parties (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('customer', 'supplier')),
    code TEXT NOT NULL COLLATE NOCASE,
    family_id INTEGER REFERENCES party_families (id),
    last_name TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL DEFAULT '',
    company TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    postcode TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    country TEXT REFERENCES countries (code),
    vat_number TEXT NOT NULL DEFAULT '',
    created_on TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (kind, code)
);
CREATE INDEX parties_kind_name ON parties (kind, last_name COLLATE NOCASE, first_name COLLATE NOCASE);
CREATE INDEX parties_kind_city ON parties (kind, city COLLATE NOCASE);
CREATE INDEX parties_family ON parties (family_id);

CREATE VIRTUAL TABLE parties_fts USING fts5 (
    code, last_name, first_name, company, city, email,
    content = 'parties', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER parties_fts_insert AFTER INSERT ON parties BEGIN
    INSERT INTO parties_fts (rowid, code, last_name, first_name, company, city, email)
    VALUES (new.id, new.code, new.last_name, new.first_name, new.company, new.city, new.email);
END;
CREATE TRIGGER parties_fts_delete AFTER DELETE ON parties BEGIN
    INSERT INTO parties_fts (parties_fts, rowid, code, last_name, first_name, company, city, email)
    VALUES ('delete', old.id, old.code, old.last_name, old.first_name, old.company, old.city, old.email);
END;
CREATE TRIGGER parties_fts_update AFTER UPDATE OF code, last_name, first_name, company, city, email
ON parties BEGIN
    INSERT INTO parties_fts (parties_fts, rowid, code, last_name, first_name, company, city, email)
    VALUES ('delete', old.id, old.code, old.last_name, old.first_name, old.company, old.city, old.email);
    INSERT INTO parties_fts (rowid, code, last_name, first_name, company, city, email)
    VALUES (new.id, new.code, new.last_name, new.first_name, new.company, new.city, new.email);
END;

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    party_id INTEGER NOT NULL REFERENCES parties (id) ON DELETE CASCADE,
    contact_no INTEGER NOT NULL,
    last_name TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    UNIQUE (party_id, contact_no)
);

CREATE TABLE payment_methods (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    label TEXT NOT NULL,
    is_cash INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1
);

-- Documents: orders and deliveries, with their lines and payments. `source` + `external_ref`
-- identify a document that came from elsewhere (a connector, a register) so it is never taken twice.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    company_id INTEGER NOT NULL REFERENCES companies (id),
    site_id INTEGER REFERENCES sites (id),
    kind TEXT NOT NULL CHECK (kind IN ('order', 'delivery', 'ticket')),
    number TEXT NOT NULL,
    doc_date TEXT NOT NULL,
    party_id INTEGER REFERENCES parties (id),
    carrier_id INTEGER REFERENCES carriers (id),
    warehouse_id INTEGER REFERENCES warehouses (id),
    status TEXT NOT NULL DEFAULT 'open',
    total_excl_vat REAL NOT NULL DEFAULT 0,
    total_vat REAL NOT NULL DEFAULT 0,
    total_incl_vat REAL NOT NULL DEFAULT 0,
    source TEXT,
    external_ref TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (company_id, kind, number),
    UNIQUE (source, external_ref)
);
CREATE INDEX documents_date ON documents (doc_date);
CREATE INDEX documents_party ON documents (party_id, doc_date);
CREATE INDEX documents_kind_date ON documents (kind, doc_date);

CREATE TABLE document_lines (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    line_no INTEGER NOT NULL,
    article_id INTEGER REFERENCES articles (id),
    label TEXT NOT NULL,
    quantity REAL NOT NULL,
    unit_code TEXT,
    unit_price_excl_vat REAL NOT NULL,
    vat_rate REAL NOT NULL,
    total_excl_vat REAL NOT NULL,
    total_incl_vat REAL NOT NULL,
    UNIQUE (document_id, line_no)
);
CREATE INDEX document_lines_article ON document_lines (article_id);

CREATE TABLE document_payments (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    payment_method_id INTEGER NOT NULL REFERENCES payment_methods (id),
    amount REAL NOT NULL,
    paid_on TEXT NOT NULL
);
CREATE INDEX document_payments_document ON document_payments (document_id);

-- Next number per company and document kind ("CO000001", "BL000001").
CREATE TABLE document_sequences (
    company_id INTEGER NOT NULL REFERENCES companies (id),
    kind TEXT NOT NULL,
    prefix TEXT NOT NULL,
    next_value INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (company_id, kind)
) WITHOUT ROWID;

CREATE TABLE pos_registers (
    id INTEGER PRIMARY KEY,
    number INTEGER NOT NULL UNIQUE CHECK (number > 0),
    label TEXT NOT NULL,
    company_id INTEGER NOT NULL REFERENCES companies (id),
    warehouse_id INTEGER REFERENCES warehouses (id),
    ticket_prefix TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE pos_users (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE pos_user_registers (
    user_id INTEGER NOT NULL REFERENCES pos_users (id) ON DELETE CASCADE,
    register_id INTEGER NOT NULL REFERENCES pos_registers (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, register_id)
) WITHOUT ROWID;

-- What a fresh data folder starts with.
INSERT INTO companies (code, name, country, is_default) VALUES ('MAIN', 'Ma société', 'FR', 1);
INSERT INTO sites (company_id, code, name) VALUES (1, 'MAIN', 'Siège');
INSERT INTO warehouses (code, name, site_id, is_default) VALUES ('MAIN', 'Dépôt principal', 1, 1);
INSERT INTO price_categories (code, label, is_default) VALUES ('STD', 'Tarif standard', 1);
INSERT INTO payment_methods (code, label, is_cash) VALUES ('CASH', 'Espèces', 1);
INSERT INTO payment_methods (code, label) VALUES ('CARD', 'Carte bancaire');
INSERT INTO payment_methods (code, label) VALUES ('TRANSFER', 'Virement');
INSERT INTO document_sequences (company_id, kind, prefix) VALUES (1, 'order', 'CO');
INSERT INTO document_sequences (company_id, kind, prefix) VALUES (1, 'delivery', 'BL');
INSERT INTO vat_rates (code, label, rate, country) VALUES
    ('BE21', 'TVA 21 % (BE)', 21, 'BE'),
    ('BE12', 'TVA 12 % (BE)', 12, 'BE'),
    ('BE6', 'TVA 6 % (BE)', 6, 'BE'),
    ('BE0', 'TVA 0 % (BE)', 0, 'BE'),
    ('FR20', 'TVA 20 % (FR)', 20, 'FR'),
    ('FR10', 'TVA 10 % (FR)', 10, 'FR'),
    ('FR5.5', 'TVA 5,5 % (FR)', 5.5, 'FR'),
    ('FR2.1', 'TVA 2,1 % (FR)', 2.1, 'FR'),
    ('FR0', 'TVA 0 % (FR)', 0, 'FR');
INSERT INTO units (code, label, decimals) VALUES
    ('U', 'Unité', 0),
    ('KG', 'Kilogramme', 3),
    ('G', 'Gramme', 0),
    ('L', 'Litre', 3),
    ('CL', 'Centilitre', 0),
    ('M', 'Mètre', 2),
    ('H', 'Heure', 2),
    ('BT', 'Bouteille', 0),
    ('CT', 'Carton', 0),
    ('LOT', 'Lot', 0);
