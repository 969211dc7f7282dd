-- Raw bytes and body texts stored compressed (issue 19: database and raw files under 1.3× the raw
-- bytes). The format is store/blob-codec.ts's: a packed value is a BLOB whose first byte names
-- the codec. Nothing is rewritten here: rows written before this migration keep reading as they
-- are, and new rows are packed beside them.

-- 1: `raw` is packed; 0: `raw` holds the bytes as received (every older row; and a message whose
-- bytes compression would not make smaller).
ALTER TABLE message_raw ADD COLUMN packed INTEGER NOT NULL DEFAULT 0;

-- `text`, `html` and `headers_json` keep a TEXT value as before (older rows, short texts) or a
-- packed BLOB (only `get()` reads the header list). SQL
-- cannot read a packed text, so the substring search (search-sql.ts) scans packed bodies in
-- JavaScript (store/packed-bodies.ts); `body_chars` is a bit mask of the characters their text
-- and HTML hold (packed-bodies.ts's bodyCharMask), so that the scan skips, without unpacking,
-- every body that lacks a character of the term. NULL: unknown (no mask was made).
ALTER TABLE message_bodies ADD COLUMN body_chars INTEGER;

-- The indexer can no longer read the body's text from message_bodies: the text to index now waits
-- in the pending row itself (NULL in rows pending from before this migration, whose text is
-- still plain in message_bodies). It leaves with the row once indexed.
ALTER TABLE message_fts_pending ADD COLUMN text TEXT;

DROP TRIGGER message_fts_pending_indexed;
-- As migration 009 made it, reading the pending row's text where it has one.
CREATE TRIGGER message_fts_pending_indexed AFTER DELETE ON message_fts_pending
  WHEN EXISTS (SELECT 1 FROM messages WHERE seq = OLD.seq) BEGIN
  -- The body: the text, the HTML's text, or both on two lines, cut at fts-indexer.ts's
  -- MAX_INDEXED_BODY_CHARS = 262144 characters; the text is cut first, so a 50 MB text is never
  -- copied whole.
  INSERT INTO message_fts (rowid, subject, addresses, body, attachments)
    SELECT OLD.seq, m.subject, OLD.addresses,
           CASE WHEN IFNULL(COALESCE(OLD.text, b.text), '') = '' THEN OLD.html_text
                WHEN OLD.html_text = '' THEN substr(COALESCE(OLD.text, b.text), 1, 262144)
                ELSE substr(substr(COALESCE(OLD.text, b.text), 1, 262144) || char(10) || OLD.html_text, 1, 262144) END,
           OLD.attachments
      FROM messages m JOIN message_bodies b ON b.seq = m.seq WHERE m.seq = OLD.seq;
END;

DROP TRIGGER message_ingest_insert;
DROP VIEW message_ingest;

-- Only ever inserted into; the SELECT names the columns the trigger receives.
CREATE VIEW message_ingest AS
  SELECT m.seq, m.id, m.mailbox, m.route_rule, m.received_at, m.size, m.read, m.subject, m.snippet, m.message_id, m.date_header,
         m.from_json, m.to_json, m.cc_json, m.bcc_json, m.reply_to_json,
         m.from_search, m.to_search, m.cc_search, m.bcc_search, m.reply_to_search,
         m.has_attachments, m.has_inline, m.envelope_json, m.parse_error,
         b.text, b.html, b.headers_json, b.attachments_json, b.body_chars, r.raw, r.packed AS raw_packed, r.file AS raw_file,
         p.addresses AS fts_addresses, p.html_text AS fts_html_text, p.attachments AS fts_attachments, p.bytes AS fts_bytes, p.text AS fts_text
    FROM messages m
    JOIN message_bodies b ON b.seq = m.seq
    JOIN message_raw r ON r.seq = m.seq
    JOIN message_fts_pending p ON p.seq = m.seq;

CREATE TRIGGER message_ingest_insert INSTEAD OF INSERT ON message_ingest BEGIN
  INSERT INTO messages (
    seq, id, mailbox, route_rule, received_at, size, read, subject, snippet, message_id, date_header,
    from_json, to_json, cc_json, bcc_json, reply_to_json,
    from_search, to_search, cc_search, bcc_search, reply_to_search,
    has_attachments, has_inline, envelope_json, parse_error
  ) VALUES (
    NEW.seq, NEW.id, NEW.mailbox, NEW.route_rule, NEW.received_at, NEW.size, NEW.read, NEW.subject, NEW.snippet, NEW.message_id, NEW.date_header,
    NEW.from_json, NEW.to_json, NEW.cc_json, NEW.bcc_json, NEW.reply_to_json,
    NEW.from_search, NEW.to_search, NEW.cc_search, NEW.bcc_search, NEW.reply_to_search,
    NEW.has_attachments, NEW.has_inline, NEW.envelope_json, NEW.parse_error
  );
  INSERT INTO message_bodies (seq, text, html, headers_json, attachments_json, body_chars)
    VALUES (NEW.seq, NEW.text, NEW.html, NEW.headers_json, NEW.attachments_json, NEW.body_chars);
  INSERT INTO message_raw (seq, raw, file, packed) VALUES (NEW.seq, NEW.raw, NEW.raw_file, NEW.raw_packed);
  INSERT INTO message_fts_pending (seq, addresses, html_text, attachments, bytes, text)
    VALUES (NEW.seq, NEW.fts_addresses, NEW.fts_html_text, NEW.fts_attachments, NEW.fts_bytes, NEW.fts_text);
END;
