-- Indexes for searches at a million messages (issue 19).
--
-- A trigram index over the columns the field operators search (issue 19): `from:`, `to:`, `cc:`,
-- `bcc:`, `reply-to:`, `addressed:`, `subject:` and `message-id:` are substring matches
-- (LIKE '%…%'), which without it read every row. A value of 3 or more characters is looked up here
-- as a phrase of trigrams (search-sql.ts), which finds a superset of the LIKE's matches (the
-- trigram tokenizer folds case at least as widely as LIKE does); the LIKE is still applied to
-- the row, so the answer is exactly the scan's.
--
-- Contentless (content=''): it holds the index only; the values stay in `messages`.
-- contentless_delete=1 lets a deleted message's row be removed by rowid.
CREATE VIRTUAL TABLE message_trigram USING fts5 (
  subject, from_search, to_search, cc_search, bcc_search, reply_to_search, message_id,
  content = '', contentless_delete = 1,
  tokenize = 'trigram'
);

-- Built behind the commit with the full-text index (fts-indexer.ts): a message enters it as its
-- row leaves message_fts_pending, in the indexer's large batches, not in the commit before the
-- `250`. A message deleted meanwhile has no row to read, so nothing is inserted.
CREATE TRIGGER message_trigram_indexed AFTER DELETE ON message_fts_pending BEGIN
  INSERT INTO message_trigram (rowid, subject, from_search, to_search, cc_search, bcc_search, reply_to_search, message_id)
    SELECT m.seq, m.subject, m.from_search, m.to_search, m.cc_search, m.bcc_search, m.reply_to_search, IFNULL(m.message_id, '')
      FROM messages m WHERE m.seq = OLD.seq;
END;

CREATE TRIGGER message_trigram_delete AFTER DELETE ON messages BEGIN
  DELETE FROM message_trigram WHERE rowid = OLD.seq;
END;

-- Every message already indexed gets its trigrams now; those still pending get them when indexed.
INSERT INTO message_trigram (rowid, subject, from_search, to_search, cc_search, bcc_search, reply_to_search, message_id)
  SELECT m.seq, m.subject, m.from_search, m.to_search, m.cc_search, m.bcc_search, m.reply_to_search, IFNULL(m.message_id, '')
    FROM messages m WHERE m.seq NOT IN (SELECT seq FROM message_fts_pending);

-- `has:attachment` walks the few messages with attachments newest first, not every row (a page and
-- a bounded count of 1,000 read ~1,000 entries here, where a walk of `messages` read 20 times as
-- many rows at 5% with attachments).
CREATE INDEX messages_with_attachments ON messages (seq) WHERE has_attachments = 1;
