-- The register's legal trail (issue 17, POS-4/POS-5; docs/pos-trail.md): every ticket, reprint,
-- closure, technical event (JET) and archive is a row of one of the register's chains, signed with
-- the register's own key over its fields and the previous signature of the same chain.

-- Register: the chains, written in the same transaction as the record they sign.
CREATE TABLE pos_trail (
    id INTEGER PRIMARY KEY,        -- the order of recording on this register
    chain TEXT NOT NULL CHECK (chain IN ('ticket', 'duplicate', 'closure', 'event', 'archive')),
    seq INTEGER NOT NULL,          -- 1, 2, 3… within the chain, no gap
    kind TEXT NOT NULL,            -- sale, refund, void, duplicate, day, month, year, a JET code…
    ref TEXT NOT NULL,             -- what it signs: a ticket number, a closure or event id
    recorded_at TEXT NOT NULL,
    fields TEXT NOT NULL,          -- the signed fields, canonical JSON
    previous TEXT NOT NULL,        -- the chain's previous signature ('' for its first row)
    signature TEXT NOT NULL,
    key_id TEXT NOT NULL,          -- which public key checks it
    UNIQUE (chain, seq)
);
CREATE INDEX pos_trail_ref ON pos_trail (chain, ref);

-- Office: each register's public keys (a register keeps its key; a new join may bring a new one).
CREATE TABLE pos_register_keys (
    register_id INTEGER NOT NULL REFERENCES pos_registers (id),
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,      -- Ed25519, base64url of the 32 raw bytes
    registered_at TEXT NOT NULL,
    PRIMARY KEY (register_id, key_id)
) WITHOUT ROWID;

-- Office: the chains as they arrive through the outbox, checked one row at a time.
CREATE TABLE pos_trail_received (
    register_id INTEGER NOT NULL REFERENCES pos_registers (id),
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    fields TEXT NOT NULL,
    previous TEXT NOT NULL,
    signature TEXT NOT NULL,
    key_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (register_id, chain, seq)
) WITHOUT ROWID;

-- Office: the first break found in a register's chain (missing, altered or out-of-order record, a
-- wrong signature, a grand total that does not follow), kept until the chain is whole again.
CREATE TABLE pos_trail_breaks (
    register_id INTEGER NOT NULL REFERENCES pos_registers (id),
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL,
    problem TEXT NOT NULL,         -- an English msgid
    params TEXT,
    found_at TEXT NOT NULL,
    PRIMARY KEY (register_id, chain)
) WITHOUT ROWID;
