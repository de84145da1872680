-- connector_documents.document_id references documents without an index: while a transaction has
-- deferred foreign-key violations (an analysis of a reception refers to customers that earlier,
-- rolled-back chunks created), SQLite looks for each inserted document's children, and without an
-- index it read the whole table each time (an analysis of a half-integrated file held the write
-- lock 3 s per chunk). Deleting a document reads it too.
CREATE INDEX connector_documents_document ON connector_documents (document_id);
