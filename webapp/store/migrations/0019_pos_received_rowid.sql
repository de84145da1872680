-- pos_received becomes a rowid table (issue 14): each row keeps a whole pushed record (~450 bytes)
-- and the ids are random, so as a WITHOUT ROWID table every push split pages all over its b-tree.
-- SQLite advises rowid tables for big rows; the id stays unique through its own index.
CREATE TABLE pos_received_new (
    id TEXT NOT NULL UNIQUE,
    register_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
    reason TEXT,
    params TEXT,
    document_id INTEGER,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL
);
INSERT INTO pos_received_new (id, register_id, kind, status, reason, params, document_id, payload,
    received_at)
SELECT id, register_id, kind, status, reason, params, document_id, payload, received_at
FROM pos_received ORDER BY received_at, id;
DROP TABLE pos_received;
ALTER TABLE pos_received_new RENAME TO pos_received;
CREATE INDEX pos_received_register ON pos_received (register_id, received_at);
