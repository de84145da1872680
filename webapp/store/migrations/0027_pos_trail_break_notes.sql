-- A chain break at the office stays, as the evidence it is (issue 17): the office's manager may
-- only say what was found and done about it (webapp/pos/trail_breaks.py). Once acknowledged, the
-- registers page shows it apart from the breaks nobody looked at; `relais pos verify` still
-- reports it.
ALTER TABLE pos_trail_breaks ADD COLUMN acknowledged_at TEXT;
ALTER TABLE pos_trail_breaks ADD COLUMN acknowledged_by TEXT;
ALTER TABLE pos_trail_breaks ADD COLUMN acknowledgement TEXT;
