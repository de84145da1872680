-- A connector's history page lists one tab (an item status) of its items by date, a page at a
-- time by (created_at, id): the subject's index gets the status before the date. Every query on
-- subject also names a status, so the (subject, created_at) index has no other reader.
DROP INDEX run_items_subject_created;
CREATE INDEX run_items_subject_status_created ON run_items (subject, status, created_at)
    WHERE subject IS NOT NULL;
