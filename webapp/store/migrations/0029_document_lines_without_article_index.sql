-- No query reads document lines by article: the lines are read by their document. The index
-- served only SQLite's foreign-key check when an article is deleted, and only a register deletes
-- articles (pos/mirror.py), whose document_lines hold nothing of its own (its tickets are in the
-- pos tables). Yet it was the costliest part of a reception's writes: its keys come in no order,
-- so each chunk's commit rewrote nearly every page of it. Without it, an integration of
-- 300,000 lines writes 525 MB instead of 1,000 MB and takes about 1.3 s less
-- (benchmarks/econnector.py). A deleted article still may not leave lines pointing at nothing:
-- the foreign key holds, and is checked by a scan (tests/test_store_document_lines.py).
DROP INDEX IF EXISTS document_lines_article;
