-- Bounded text for large messages (issue 19: one large message received in bounded memory).
--
-- A message received into a spool file is parsed from it with each large text/plain and
-- text/html part cut to what decodes to the first 256 Ki characters (parse/skeleton-file.ts), the
-- bound the full-text index already has. message_bodies.text and .html then hold that bounded
-- text, and text_cut says so: readers of a message's text derive the whole text from the raw
-- bytes (store/full-text.ts); the snippet, the index and substring search use what is stored.
-- Set by an UPDATE in the insert's transaction (store/sqlite.ts), not through message_ingest:
-- existing rows hold their whole text, 0.
ALTER TABLE message_bodies ADD COLUMN text_cut INTEGER NOT NULL DEFAULT 0;
