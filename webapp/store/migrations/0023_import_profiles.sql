-- Named correspondences between a file's headings and Relais's fields, one set per kind of
-- back-office import (issue 16): "Export caisse Lightspeed" is chosen again for the next file.
--
-- columns_json: a JSON object, the file's heading (normalised: lower case, no accents, "_" for
-- spaces and punctuation) → the Relais field it gives, or "" for a heading to ignore.
CREATE TABLE import_profiles (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    columns_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (kind, name)
);
