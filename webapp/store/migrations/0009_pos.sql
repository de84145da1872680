-- Autonomous cash registers (POS-1 to POS-7). See docs/pos.md. Both roles use the same schema: the
-- office fills the change log and the packages, the register the outbox and its applied packages.

-- Office: every change of the data the registers need, in order. Triggers below write it in the
-- same transaction as the change itself, so a package never misses a committed change.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,          -- articles, customers, users, payment_methods, vat_rates, units, registers
    key TEXT NOT NULL,             -- the code (the number for registers)
    op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX change_log_entity ON change_log (entity, key, seq);

CREATE TRIGGER change_articles_insert AFTER INSERT ON articles BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('articles', new.code, 'upsert');
END;
CREATE TRIGGER change_articles_update AFTER UPDATE ON articles BEGIN
    -- A renamed code: the old one is gone for the registers (packages check what still exists).
    INSERT INTO change_log (entity, key, op)
    SELECT 'articles', old.code, 'delete' WHERE old.code <> new.code;
    INSERT INTO change_log (entity, key, op) VALUES ('articles', new.code, 'upsert');
END;
CREATE TRIGGER change_articles_delete AFTER DELETE ON articles BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('articles', old.code, 'delete');
END;
CREATE TRIGGER change_prices_insert AFTER INSERT ON article_prices BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'articles', code, 'upsert' FROM articles WHERE id = new.article_id;
END;
CREATE TRIGGER change_prices_update AFTER UPDATE ON article_prices BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'articles', code, 'upsert' FROM articles WHERE id = new.article_id;
END;
CREATE TRIGGER change_prices_delete AFTER DELETE ON article_prices BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'articles', code, 'upsert' FROM articles WHERE id = old.article_id;
END;

CREATE TRIGGER change_customers_insert AFTER INSERT ON parties WHEN new.kind = 'customer' BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('customers', new.code, 'upsert');
END;
CREATE TRIGGER change_customers_update AFTER UPDATE ON parties
WHEN new.kind = 'customer' OR old.kind = 'customer' BEGIN
    -- A renamed customer, or one turned into a supplier: its old code is gone for the registers.
    INSERT INTO change_log (entity, key, op)
    SELECT 'customers', old.code, 'delete'
    WHERE old.kind = 'customer' AND (new.kind <> 'customer' OR old.code <> new.code);
    INSERT INTO change_log (entity, key, op)
    SELECT 'customers', new.code, 'upsert' WHERE new.kind = 'customer';
END;
CREATE TRIGGER change_customers_delete AFTER DELETE ON parties WHEN old.kind = 'customer' BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('customers', old.code, 'delete');
END;

CREATE TRIGGER change_users_insert AFTER INSERT ON pos_users BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('users', new.code, 'upsert');
END;
CREATE TRIGGER change_users_update AFTER UPDATE ON pos_users BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'users', old.code, 'delete' WHERE old.code <> new.code;
    INSERT INTO change_log (entity, key, op) VALUES ('users', new.code, 'upsert');
END;
CREATE TRIGGER change_users_delete AFTER DELETE ON pos_users BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('users', old.code, 'delete');
END;
CREATE TRIGGER change_user_registers_insert AFTER INSERT ON pos_user_registers BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'users', code, 'upsert' FROM pos_users WHERE id = new.user_id;
END;
CREATE TRIGGER change_user_registers_delete AFTER DELETE ON pos_user_registers BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'users', code, 'upsert' FROM pos_users WHERE id = old.user_id;
END;

CREATE TRIGGER change_payment_methods_insert AFTER INSERT ON payment_methods BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('payment_methods', new.code, 'upsert');
END;
CREATE TRIGGER change_payment_methods_update AFTER UPDATE ON payment_methods BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'payment_methods', old.code, 'delete' WHERE old.code <> new.code;
    INSERT INTO change_log (entity, key, op) VALUES ('payment_methods', new.code, 'upsert');
END;
CREATE TRIGGER change_payment_methods_delete AFTER DELETE ON payment_methods BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('payment_methods', old.code, 'delete');
END;

CREATE TRIGGER change_vat_rates_insert AFTER INSERT ON vat_rates BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('vat_rates', new.code, 'upsert');
END;
CREATE TRIGGER change_vat_rates_update AFTER UPDATE ON vat_rates BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('vat_rates', new.code, 'upsert');
END;
CREATE TRIGGER change_units_insert AFTER INSERT ON units BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('units', new.code, 'upsert');
END;
CREATE TRIGGER change_units_update AFTER UPDATE ON units BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('units', new.code, 'upsert');
END;

CREATE TRIGGER change_registers_insert AFTER INSERT ON pos_registers BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('registers', CAST(new.number AS TEXT), 'upsert');
END;
CREATE TRIGGER change_registers_update AFTER UPDATE ON pos_registers BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('registers', CAST(new.number AS TEXT), 'upsert');
END;

-- Office: a register's tokens (only their SHA-256), and the packages built for it.
CREATE TABLE pos_register_tokens (
    id INTEGER PRIMARY KEY,
    register_id INTEGER NOT NULL REFERENCES pos_registers (id) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_seen_at TEXT
);

CREATE TABLE pos_packages (
    register_id INTEGER NOT NULL REFERENCES pos_registers (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    full INTEGER NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    body BLOB NOT NULL,            -- the package JSON, zlib-compressed
    size INTEGER NOT NULL,         -- of the uncompressed JSON
    sha256 TEXT NOT NULL,          -- of the uncompressed JSON
    created_at TEXT NOT NULL,
    acked_at TEXT,
    PRIMARY KEY (register_id, number)
) WITHOUT ROWID;

-- Office: each record pushed by a register, applied once (the id is made on the register).
CREATE TABLE pos_received (
    id TEXT PRIMARY KEY,
    register_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
    reason TEXT,
    params TEXT,
    document_id INTEGER,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX pos_received_register ON pos_received (register_id, received_at);

-- Update packages (POS-6), published on the office, kept as received on the register.
CREATE TABLE pos_updates (
    number INTEGER PRIMARY KEY,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    manifest TEXT NOT NULL,        -- the signed JSON
    signature TEXT NOT NULL,       -- Ed25519, base64
    state TEXT NOT NULL DEFAULT 'published'
        CHECK (state IN ('published', 'pending', 'applied', 'refused')),
    reason TEXT,
    created_at TEXT NOT NULL,
    applied_at TEXT
);

-- Register: the packages applied (in the same transaction as their rows).
CREATE TABLE pos_packages_applied (
    number INTEGER PRIMARY KEY,
    full INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    applied_at TEXT NOT NULL,
    acked_at TEXT
);

-- Register: tickets sold here, with their lines and payments as JSON (the office gets them as
-- documents); numbered with the register's prefix.
CREATE TABLE pos_tickets (
    id TEXT PRIMARY KEY,           -- the outbox record id
    number TEXT NOT NULL UNIQUE,
    sold_at TEXT NOT NULL,
    user_code TEXT,
    customer_code TEXT,
    total_incl_vat TEXT NOT NULL,
    payload TEXT NOT NULL
) WITHOUT ROWID;

-- Register: the outbox. The name is the one the product has always used.
CREATE TABLE MICPTRACK (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,       -- made here, before the first send
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT
);
CREATE INDEX micptrack_queued ON MICPTRACK (state, seq);
