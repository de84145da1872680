-- Number 0024 went to the e-connecteur reception's reuse of its analysis (issue 14), which in the
-- end needs no table: it compares the reference tables themselves (webapp/econnector/
-- reception_cache.py). Kept empty so the numbers run without a gap (0025 followed it).
SELECT 1;
