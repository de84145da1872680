-- The reception of a PrestaShop shop's orders (issue 15).
--
-- An order's shipping and its discounts become lines of their own, on the articles these outside
-- codes are mapped to in the connector's article correspondences (as any article of the shop).
ALTER TABLE connectors ADD COLUMN shipping_ref TEXT NOT NULL DEFAULT 'SHIPPING';
ALTER TABLE connectors ADD COLUMN discount_ref TEXT NOT NULL DEFAULT 'DISCOUNT';

-- Where the next receive starts: the date_upd of the last committed order, as the shop wrote it
-- (the shop's clock, never ours). Kept out of the connectors row so a wizard's save, which writes
-- the whole row, never moves it back.
CREATE TABLE connector_shop_cursors (
    connector_id INTEGER PRIMARY KEY REFERENCES connectors (id) ON DELETE CASCADE,
    order_date_upd TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Orders held back (an article without correspondence, a refusal): asked again by id at each
-- receive, whatever the cursor, until they are integrated or leave the chosen states.
CREATE TABLE connector_held_orders (
    connector_id INTEGER NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    order_id INTEGER NOT NULL,
    doc_ref TEXT NOT NULL,
    held_at TEXT NOT NULL,
    PRIMARY KEY (connector_id, order_id)
) WITHOUT ROWID;
