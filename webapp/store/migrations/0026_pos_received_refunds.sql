-- The refunds and voids a register pushed, found by the sale they name (webapp/pos/office_refunds.py):
-- the office checks a refund against the sale minus the earlier ones (issue 17). json_valid keeps
-- a row that is not JSON (there should be none) from failing its INSERT.
CREATE INDEX pos_received_refunds ON pos_received (
    register_id,
    (CASE WHEN json_valid(payload) THEN json_extract(payload, '$.payload.refunds') END)
) WHERE kind = 'ticket';
