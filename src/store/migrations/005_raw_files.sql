-- Large raw messages may live in a file beside the database (store/raw-files.ts): `file` names
-- it, and `raw` is then empty. NULL: the bytes are in `raw`, as before.
ALTER TABLE message_raw ADD COLUMN file TEXT;

-- The ingest view and its trigger (migration 002) gain the column.
DROP TRIGGER message_ingest_insert;
DROP VIEW message_ingest;

CREATE VIEW message_ingest AS
  SELECT m.seq, m.id, m.mailbox, m.received_at, m.size, m.read, m.subject, m.snippet, m.message_id, m.date_header,
         m.from_json, m.to_json, m.cc_json, m.bcc_json, m.reply_to_json,
         m.from_search, m.to_search, m.cc_search, m.bcc_search, m.reply_to_search,
         m.has_attachments, m.has_inline, m.envelope_json, m.parse_error,
         b.text, b.html, b.headers_json, b.attachments_json, r.raw, r.file AS raw_file,
         f.addresses AS fts_addresses, f.body AS fts_body, f.attachments AS fts_attachments
    FROM messages m
    JOIN message_bodies b ON b.seq = m.seq
    JOIN message_raw r ON r.seq = m.seq
    JOIN message_fts f ON f.rowid = m.seq;

CREATE TRIGGER message_ingest_insert INSTEAD OF INSERT ON message_ingest BEGIN
  INSERT INTO messages (
    seq, id, mailbox, received_at, size, read, subject, snippet, message_id, date_header,
    from_json, to_json, cc_json, bcc_json, reply_to_json,
    from_search, to_search, cc_search, bcc_search, reply_to_search,
    has_attachments, has_inline, envelope_json, parse_error
  ) VALUES (
    NEW.seq, NEW.id, NEW.mailbox, NEW.received_at, NEW.size, NEW.read, NEW.subject, NEW.snippet, NEW.message_id, NEW.date_header,
    NEW.from_json, NEW.to_json, NEW.cc_json, NEW.bcc_json, NEW.reply_to_json,
    NEW.from_search, NEW.to_search, NEW.cc_search, NEW.bcc_search, NEW.reply_to_search,
    NEW.has_attachments, NEW.has_inline, NEW.envelope_json, NEW.parse_error
  );
  INSERT INTO message_bodies (seq, text, html, headers_json, attachments_json)
    VALUES (NEW.seq, NEW.text, NEW.html, NEW.headers_json, NEW.attachments_json);
  INSERT INTO message_raw (seq, raw, file) VALUES (NEW.seq, NEW.raw, NEW.raw_file);
  INSERT INTO message_fts (rowid, subject, addresses, body, attachments)
    VALUES (NEW.seq, NEW.subject, NEW.fts_addresses, NEW.fts_body, NEW.fts_attachments);
END;
