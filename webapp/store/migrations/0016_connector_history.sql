-- One history (issue 13): the e-connecteur's events move into runs/run_items, about their
-- connector (subject = its code), and connector_events goes. Receptions and sends already wrote
-- most of them twice (an event and a run item): those pairs become one item; the rest (customers
-- created by a document, events whose run is gone) become items of their run, or of one run per
-- connector, direction and day. A resolution given on either side is kept.

CREATE TEMP TABLE events AS
SELECT
    e.id,
    c.code,
    e.direction,
    e.data_kind,
    e.created_at,
    e.resolved_at,
    e.resolved_by,
    e.resolution,
    CASE WHEN e.direction = 'send' THEN 'connector_send' ELSE 'connector_receive' END AS job_name,
    CASE
        WHEN e.status = 'error' THEN 'error'
        WHEN e.direction = 'send' THEN 'sent'
        ELSE 'received'
    END AS item_status,
    CASE WHEN e.direction = 'send' THEN 'file' ELSE e.data_kind END AS match_kind,
    -- The reference the twin run item was written with (none for a customer made by a document).
    CASE
        WHEN e.direction = 'send' THEN e.file
        WHEN e.data_kind = 'document' THEN c.code || ':' || e.doc_ref
        WHEN e.doc_ref IS NULL THEN c.code || ':' || e.external_party
    END AS match_ref,
    c.code || ':' || coalesce(e.doc_ref, e.external_party, e.file, '') AS reference,
    coalesce(
        e.message,
        CASE
            WHEN e.direction = 'send' THEN '{file}: {rows} rows'
            WHEN e.data_kind = 'document' THEN '{ref} integrated as {number}'
            ELSE '{ref}: {name}'
        END
    ) AS message,
    json_patch(
        coalesce(e.params, '{}'),
        json_object(
            'ref', coalesce(e.doc_ref, e.external_party),
            'file', e.file,
            'doc_ref', e.doc_ref,
            'number', e.document_number,
            'party_code', e.party_code,
            'external_party', e.external_party,
            'name', e.name,
            'amount', e.amount,
            'doc_date', (
                SELECT d.doc_date FROM connector_documents cd JOIN documents d ON d.id = cd.document_id
                WHERE cd.connector_id = e.connector_id AND cd.doc_ref = e.doc_ref
            )
        )
    ) AS params,
    CASE WHEN e.run_id IN (SELECT id FROM runs) THEN e.run_id END AS run_id,
    NULL AS item_id
FROM connector_events e JOIN connectors c ON c.id = e.connector_id;

-- Twins are paired in order within (run, reference, status, kind): the same document refused
-- twice in one run gives two events and two items, each paired once.
CREATE TEMP TABLE moved AS
SELECT *, row_number() OVER (
    PARTITION BY run_id, match_ref, item_status, match_kind ORDER BY id
) AS rn
FROM events;

CREATE TEMP TABLE twins AS
SELECT id, run_id, reference, status, kind,
    row_number() OVER (PARTITION BY run_id, reference, status, kind ORDER BY id) AS rn
FROM run_items WHERE job_name IN ('connector_receive', 'connector_send');
CREATE INDEX temp.twins_key ON twins (run_id, reference, status, kind, rn);

UPDATE moved SET item_id = (
    SELECT t.id FROM twins t
    WHERE t.run_id = moved.run_id AND t.reference = moved.match_ref
        AND t.status = moved.item_status AND t.kind = moved.match_kind AND t.rn = moved.rn
)
WHERE run_id IS NOT NULL AND match_ref IS NOT NULL;

-- A pair becomes one item, with what the connector's page shows and either side's resolution.
UPDATE run_items SET
    subject = m.code,
    kind = m.data_kind,
    reference = m.reference,
    message = coalesce(run_items.message, m.message),
    params = json_patch(coalesce(run_items.params, '{}'), m.params),
    resolved_by = CASE WHEN run_items.resolved_at IS NULL THEN m.resolved_by ELSE run_items.resolved_by END,
    resolution = CASE WHEN run_items.resolved_at IS NULL THEN m.resolution ELSE run_items.resolution END,
    resolved_at = coalesce(run_items.resolved_at, m.resolved_at)
FROM moved m WHERE m.item_id = run_items.id;

-- Events whose run is gone: one run per connector, direction and day, numbered after the others.
CREATE TEMP TABLE lost_runs AS
SELECT row_number() OVER (ORDER BY min(created_at), code, job_name) AS number,
    job_name, code, substr(created_at, 1, 10) AS day, min(created_at) AS started_at,
    max(created_at) AS finished_at, max(item_status = 'error') AS failed
FROM moved WHERE run_id IS NULL GROUP BY job_name, code, substr(created_at, 1, 10);
CREATE INDEX temp.lost_runs_key ON lost_runs (job_name, code, day);

CREATE TEMP TABLE base AS SELECT coalesce(max(id), 0) AS last_id FROM runs;

INSERT INTO runs (id, job_name, origin, status, started_at, finished_at, subject)
SELECT base.last_id + l.number, l.job_name, 'migration',
    CASE WHEN l.failed THEN 'warning' ELSE 'success' END, l.started_at, l.finished_at, l.code
FROM lost_runs l, base;

UPDATE moved SET run_id = (
    SELECT base.last_id + l.number FROM lost_runs l, base
    WHERE l.job_name = moved.job_name AND l.code = moved.code
        AND l.day = substr(moved.created_at, 1, 10)
)
WHERE run_id IS NULL;

INSERT INTO run_items (run_id, job_name, created_at, kind, status, reference, message, params,
    resolved_at, resolved_by, resolution, subject)
SELECT run_id, job_name, created_at, data_kind, item_status, reference, message, params,
    resolved_at, resolved_by, resolution, code
FROM moved WHERE item_id IS NULL ORDER BY created_at, id;

UPDATE runs SET
    count_received = (SELECT count(*) FROM run_items i WHERE i.run_id = runs.id AND i.status = 'received'),
    count_sent = (SELECT count(*) FROM run_items i WHERE i.run_id = runs.id AND i.status = 'sent'),
    count_errors = (SELECT count(*) FROM run_items i WHERE i.run_id = runs.id AND i.status = 'error')
WHERE id IN (SELECT run_id FROM moved WHERE item_id IS NULL);

-- Items the connector wrote only to the platform history (a refused file) get their subject too.
UPDATE run_items SET subject = (
    SELECT c.code FROM connectors c WHERE c.code = substr(run_items.reference, 1, instr(run_items.reference, ':') - 1)
)
WHERE job_name = 'connector_receive' AND subject IS NULL AND instr(reference, ':') > 1;

UPDATE runs SET subject = coalesce(
    json_extract(params, '$.connector'),
    (SELECT min(i.subject) FROM run_items i WHERE i.run_id = runs.id)
)
WHERE job_name IN ('connector_receive', 'connector_send') AND subject IS NULL;

DROP TABLE events;
DROP TABLE moved;
DROP TABLE twins;
DROP TABLE lost_runs;
DROP TABLE base;
DROP TABLE connector_events;

-- The platform's history purge now deletes the connectors' old items with all the others.
DELETE FROM jobs WHERE name = 'connector_history_purge';
