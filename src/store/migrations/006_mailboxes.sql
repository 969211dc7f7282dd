-- Mailboxes (issue 16). `route_rule`: the routing rule that placed the message in its mailbox
-- (the pattern as written, 'smtp-user' or 'default'); messages stored before routing existed
-- all went to 'default'.
ALTER TABLE messages ADD COLUMN route_rule TEXT NOT NULL DEFAULT 'default';

-- Per-mailbox counts kept by triggers, so GET /api/mailboxes reads a handful of rows instead of
-- scanning every message. A mailbox whose messages are all gone keeps a row of zeros.
CREATE TABLE mailbox_counts (
  mailbox TEXT    PRIMARY KEY,
  total   INTEGER NOT NULL,
  unread  INTEGER NOT NULL,
  size    INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO mailbox_counts (mailbox, total, unread, size)
  SELECT mailbox, COUNT(*), SUM(read = 0), SUM(size) FROM messages GROUP BY mailbox;

CREATE TRIGGER mailbox_counts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO mailbox_counts (mailbox, total, unread, size) VALUES (NEW.mailbox, 1, NEW.read = 0, NEW.size)
    ON CONFLICT (mailbox) DO UPDATE SET total = total + 1, unread = unread + (NEW.read = 0), size = size + NEW.size;
END;

CREATE TRIGGER mailbox_counts_delete AFTER DELETE ON messages BEGIN
  UPDATE mailbox_counts SET total = total - 1, unread = unread - (OLD.read = 0), size = size - OLD.size
    WHERE mailbox = OLD.mailbox;
END;

-- Nothing moves a message between mailboxes today; the trigger covers it anyway, so the counts
-- cannot drift if something does.
CREATE TRIGGER mailbox_counts_update AFTER UPDATE OF read, mailbox, size ON messages
  WHEN OLD.read IS NOT NEW.read OR OLD.mailbox IS NOT NEW.mailbox OR OLD.size IS NOT NEW.size BEGIN
  UPDATE mailbox_counts SET total = total - 1, unread = unread - (OLD.read = 0), size = size - OLD.size
    WHERE mailbox = OLD.mailbox;
  INSERT INTO mailbox_counts (mailbox, total, unread, size) VALUES (NEW.mailbox, 1, NEW.read = 0, NEW.size)
    ON CONFLICT (mailbox) DO UPDATE SET total = total + 1, unread = unread + (NEW.read = 0), size = size + NEW.size;
END;

-- The ingest view and its trigger (migrations 002 and 005) gain the column.
DROP TRIGGER message_ingest_insert;
DROP VIEW message_ingest;

CREATE VIEW message_ingest AS
  SELECT m.seq, m.id, m.mailbox, m.route_rule, m.received_at, m.size, m.read, m.subject, m.snippet, m.message_id, m.date_header,
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
  INSERT INTO message_fts (rowid, subject, addresses, body, attachments)
    VALUES (NEW.seq, NEW.subject, NEW.fts_addresses, NEW.fts_body, NEW.fts_attachments);
END;
