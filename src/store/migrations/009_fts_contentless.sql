-- The full-text index holds only the index (issue 19: each large text stored once). Until now
-- message_fts also kept its own copy of every indexed column (up to 256 Ki characters of body per
-- message, in message_fts_content), beside message_bodies and the raw bytes. Contentless
-- (`content=''`): FTS5 keeps the terms and their positions, never the text; `contentless_delete=1`
-- lets a row be deleted by rowid alone, as the delete cascade does. Same columns, tokenizer and
-- rowids (= messages.seq), so every MATCH answers as before. Nothing reads the columns' values
-- any more: the substring search (search-sql.ts) reads the stored message instead.

-- The triggers that name message_fts go first, so that the table can be swapped under them.
DROP TRIGGER message_fts_pending_indexed;
DROP TRIGGER messages_delete_cascade;

CREATE VIRTUAL TABLE message_fts_contentless USING fts5 (
  subject, addresses, body, attachments,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);

-- What is indexed is re-indexed from the old table's own copy (the HTML's text is stored nowhere
-- else); rows still waiting in message_fts_pending stay there for the indexer, as before.
INSERT INTO message_fts_contentless (rowid, subject, addresses, body, attachments)
  SELECT rowid, subject, addresses, body, attachments FROM message_fts;

DROP TABLE message_fts;
ALTER TABLE message_fts_contentless RENAME TO message_fts;

-- As migration 008 made them.
CREATE TRIGGER message_fts_pending_indexed AFTER DELETE ON message_fts_pending
  WHEN EXISTS (SELECT 1 FROM messages WHERE seq = OLD.seq) BEGIN
  -- The body: the text, the HTML's text, or both on two lines, cut at fts-indexer.ts's
  -- MAX_INDEXED_BODY_CHARS = 262144 characters; the text is cut first, so a 50 MB text is never
  -- copied whole.
  INSERT INTO message_fts (rowid, subject, addresses, body, attachments)
    SELECT OLD.seq, m.subject, OLD.addresses,
           CASE WHEN IFNULL(b.text, '') = '' THEN OLD.html_text
                WHEN OLD.html_text = '' THEN substr(b.text, 1, 262144)
                ELSE substr(substr(b.text, 1, 262144) || char(10) || OLD.html_text, 1, 262144) END,
           OLD.attachments
      FROM messages m JOIN message_bodies b ON b.seq = m.seq WHERE m.seq = OLD.seq;
END;

CREATE TRIGGER messages_delete_cascade AFTER DELETE ON messages BEGIN
  DELETE FROM message_bodies WHERE seq = old.seq;
  DELETE FROM message_raw WHERE seq = old.seq;
  DELETE FROM message_fts WHERE rowid = old.seq;
  DELETE FROM message_fts_pending WHERE seq = old.seq;
END;
