-- The full-text indexes of articles and parties, cheaper to write (issue 14).
--
-- columnsize = 0: every search only asks which rows match (`id IN (SELECT rowid … MATCH ?)`);
-- nothing ranks them (no bm25, rank, highlight or snippet), which is all that FTS5's token counts
-- per row and column (the %_docsize table) serve. They were one more row written per article
-- or party.
--
-- automerge 8 (FTS5's default is 4): a bulk import indexes each chunk in its own transaction,
-- and each commit leaves a new segment; with 4, FTS5 merged them into larger ones again and
-- again while the import ran. With 8, a level merges once it holds 8 segments: fewer rewrites,
-- and a search reads a few more segments. Not 16: that is crisismerge's default, at which a
-- level is merged whole at once, inside one chunk's transaction (a chunk then held the writer
-- three times as long).
--
-- Measured on 200,000 articles indexed in chunks of 3,300: the index's writes 2.3 s before,
-- 1.1 s after (1.4-1.5 s with the column sizes gone alone), the longest chunk's as long as before
-- (45-54 ms); the catalogue's searches as fast as before.
DROP TABLE articles_fts;
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    code, label, barcode, tags,
    content = 'articles', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3', columnsize = 0
);
INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
INSERT INTO articles_fts (articles_fts, rank) VALUES ('automerge', 8);

DROP TABLE parties_fts;
CREATE VIRTUAL TABLE parties_fts USING fts5 (
    code, last_name, first_name, company, city, email,
    content = 'parties', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3', columnsize = 0
);
INSERT INTO parties_fts (parties_fts) VALUES ('rebuild');
INSERT INTO parties_fts (parties_fts, rank) VALUES ('automerge', 8);
