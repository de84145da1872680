-- The dashboard counts unresolved errors on every load: a partial index keeps it small.
CREATE INDEX run_items_unresolved ON run_items (created_at) WHERE status = 'error' AND resolved_at IS NULL;
