-- The full-text index is built behind the commit (issue 19). A message's index text commits with
-- the message into message_fts_pending; the indexer (store/fts-indexer.ts) moves it into
-- message_fts in large batches, which costs FTS5 far less than a segment per commit of ten.
-- A search that needs the index first lets the indexer catch up, so it sees every message
-- acknowledged before it. The body's text is not copied here: it is read from message_bodies
-- when indexed; only the HTML's text (stored nowhere else) waits here. `bytes` is about how much
-- the row will index (its characters), for cutting batches without reading the text.
CREATE TABLE message_fts_pending (
  seq          INTEGER PRIMARY KEY,
  addresses    TEXT    NOT NULL,
  html_text    TEXT    NOT NULL,
  attachments  TEXT    NOT NULL,
  bytes        INTEGER NOT NULL
);

-- Indexing is one statement, `DELETE FROM message_fts_pending WHERE seq <= ?` (fts-indexer.ts): the
-- row's text moves into the index as it leaves, atomically, in one slot of the connection's queue.
-- The text of a message deleted meanwhile goes nowhere (its row is gone when the cascade below
-- deletes its pending text).
CREATE TRIGGER message_fts_pending_indexed AFTER DELETE ON message_fts_pending
  WHEN EXISTS (SELECT 1 FROM messages WHERE seq = OLD.seq) BEGIN
  -- The body: the text, the HTML's text, or both on two lines (as they were indexed before this
  -- migration), cut at fts-indexer.ts's MAX_INDEXED_BODY_CHARS = 262144 characters; the text is
  -- cut first, so a 50 MB text is never copied whole.
  INSERT INTO message_fts (rowid, subject, addresses, body, attachments)
    SELECT OLD.seq, m.subject, OLD.addresses,
           CASE WHEN IFNULL(b.text, '') = '' THEN OLD.html_text
                WHEN OLD.html_text = '' THEN substr(b.text, 1, 262144)
                ELSE substr(substr(b.text, 1, 262144) || char(10) || OLD.html_text, 1, 262144) END,
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
         b.text, b.html, b.headers_json, b.attachments_json, r.raw, r.file AS raw_file,
         p.addresses AS fts_addresses, p.html_text AS fts_html_text, p.attachments AS fts_attachments, p.bytes AS fts_bytes
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
  INSERT INTO message_bodies (seq, text, html, headers_json, attachments_json)
    VALUES (NEW.seq, NEW.text, NEW.html, NEW.headers_json, NEW.attachments_json);
  INSERT INTO message_raw (seq, raw, file) VALUES (NEW.seq, NEW.raw, NEW.raw_file);
  INSERT INTO message_fts_pending (seq, addresses, html_text, attachments, bytes)
    VALUES (NEW.seq, NEW.fts_addresses, NEW.fts_html_text, NEW.fts_attachments, NEW.fts_bytes);
END;

DROP TRIGGER messages_delete_cascade;
CREATE TRIGGER messages_delete_cascade AFTER DELETE ON messages BEGIN
  DELETE FROM message_bodies WHERE seq = old.seq;
  DELETE FROM message_raw WHERE seq = old.seq;
  DELETE FROM message_fts WHERE rowid = old.seq;
  DELETE FROM message_fts_pending WHERE seq = old.seq;
END;
