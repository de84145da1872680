-- A bulk import writes articles and parties with their per-row FTS and change-log triggers
-- inactive, then fills articles_fts/parties_fts and change_log set-based for the chunk (one
-- change_log row per item touched instead of one per row and per price). The import adds the
-- one row of bulk_writes inside its chunk transaction and deletes it before the commit: any other
-- writer, and any reader, only ever sees the table empty, and a crash rolls the row back with the
-- chunk. An empty table (the default) keeps every trigger active.
CREATE TABLE bulk_writes (
    active INTEGER PRIMARY KEY CHECK (active = 1)
);

DROP TRIGGER articles_fts_insert;
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    INSERT INTO articles_fts (rowid, code, label, barcode, tags)
    VALUES (new.id, new.code, new.label, new.barcode, new.tags);
END;
DROP TRIGGER articles_fts_update;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF code, label, barcode, tags ON articles
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, code, label, barcode, tags)
    VALUES ('delete', old.id, old.code, old.label, old.barcode, old.tags);
    INSERT INTO articles_fts (rowid, code, label, barcode, tags)
    VALUES (new.id, new.code, new.label, new.barcode, new.tags);
END;

DROP TRIGGER parties_fts_insert;
CREATE TRIGGER parties_fts_insert AFTER INSERT ON parties
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    INSERT INTO parties_fts (rowid, code, last_name, first_name, company, city, email)
    VALUES (new.id, new.code, new.last_name, new.first_name, new.company, new.city, new.email);
END;
DROP TRIGGER parties_fts_update;
CREATE TRIGGER parties_fts_update AFTER UPDATE OF code, last_name, first_name, company, city, email
ON parties WHEN NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    INSERT INTO parties_fts (parties_fts, rowid, code, last_name, first_name, company, city, email)
    VALUES ('delete', old.id, old.code, old.last_name, old.first_name, old.company, old.city, old.email);
    INSERT INTO parties_fts (rowid, code, last_name, first_name, company, city, email)
    VALUES (new.id, new.code, new.last_name, new.first_name, new.company, new.city, new.email);
END;

DROP TRIGGER change_articles_insert;
CREATE TRIGGER change_articles_insert AFTER INSERT ON articles
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('articles', new.code, 'upsert');
END;
DROP TRIGGER change_articles_update;
CREATE TRIGGER change_articles_update AFTER UPDATE ON articles
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    -- A renamed code: the old one is gone for the registers (packages check what still exists).
    INSERT INTO change_log (entity, key, op)
    SELECT 'articles', old.code, 'delete' WHERE old.code <> new.code;
    INSERT INTO change_log (entity, key, op) VALUES ('articles', new.code, 'upsert');
END;
DROP TRIGGER change_prices_insert;
CREATE TRIGGER change_prices_insert AFTER INSERT ON article_prices
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'articles', code, 'upsert' FROM articles WHERE id = new.article_id;
END;
DROP TRIGGER change_prices_update;
CREATE TRIGGER change_prices_update AFTER UPDATE ON article_prices
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'articles', code, 'upsert' FROM articles WHERE id = new.article_id;
END;
DROP TRIGGER change_prices_delete;
CREATE TRIGGER change_prices_delete AFTER DELETE ON article_prices
WHEN NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    INSERT INTO change_log (entity, key, op)
    SELECT 'articles', code, 'upsert' FROM articles WHERE id = old.article_id;
END;

DROP TRIGGER change_customers_insert;
CREATE TRIGGER change_customers_insert AFTER INSERT ON parties
WHEN new.kind = 'customer' AND NOT EXISTS (SELECT 1 FROM bulk_writes) BEGIN
    INSERT INTO change_log (entity, key, op) VALUES ('customers', new.code, 'upsert');
END;
DROP TRIGGER change_customers_update;
CREATE TRIGGER change_customers_update AFTER UPDATE ON parties
WHEN (new.kind = 'customer' OR old.kind = 'customer') AND NOT EXISTS (SELECT 1 FROM bulk_writes)
BEGIN
    -- A renamed customer, or one turned into a supplier: its old code is gone for the registers.
    INSERT INTO change_log (entity, key, op)
    SELECT 'customers', old.code, 'delete'
    WHERE old.kind = 'customer' AND (new.kind <> 'customer' OR old.code <> new.code);
    INSERT INTO change_log (entity, key, op)
    SELECT 'customers', new.code, 'upsert' WHERE new.kind = 'customer';
END;
