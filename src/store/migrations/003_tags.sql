-- Tags (Mailpit's, through its API and `tag:` searches). A name is unique without regard to case,
-- and the first spelling stored is the one shown, as in Mailpit; a message holds a tag once.
CREATE TABLE tags (
  id    INTEGER PRIMARY KEY,
  name  TEXT    NOT NULL UNIQUE COLLATE NOCASE
);

-- Keyed by messages.seq like the other per-message tables; the second index serves `tag:` searches
-- and per-tag counts.
CREATE TABLE message_tags (
  seq     INTEGER NOT NULL,
  tag_id  INTEGER NOT NULL,
  PRIMARY KEY (seq, tag_id)
) WITHOUT ROWID;
CREATE INDEX message_tags_tag ON message_tags (tag_id, seq);

-- A message's tags go with it. Names left without messages are not listed (every read joins
-- message_tags) and are pruned at the next tag change.
CREATE TRIGGER messages_delete_tags AFTER DELETE ON messages BEGIN
  DELETE FROM message_tags WHERE seq = old.seq;
END;
