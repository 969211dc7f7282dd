-- IMAP (issue 21): the flags IMAP stores beside Kotak's read state, and what keeps UIDs (= seq)
-- from ever being given twice.
--
-- ADD COLUMN with a constant default changes only the schema: no row is rewritten (a million
-- messages migrate in a moment), and the values go with their row when a message is deleted.
ALTER TABLE messages ADD COLUMN flagged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

-- One row. `uid_validity`: IMAP's UIDVALIDITY, drawn once for this database (1..2^31-1).
-- `seq_high_water`: the highest seq a deleted message held. seq is `INTEGER PRIMARY KEY` without
-- AUTOINCREMENT and the store numbers new messages from MAX(seq) + 1 at start, so deleting the
-- newest messages and restarting would hand their seqs out again; the store starts above this too.
-- Kept by a trigger on delete, so inserts (the hot path) pay nothing for it.
CREATE TABLE store_identity (
  uid_validity   INTEGER NOT NULL,
  seq_high_water INTEGER NOT NULL
);
INSERT INTO store_identity (uid_validity, seq_high_water)
  VALUES ((random() & 2147483647) % 2147483646 + 1, (SELECT IFNULL(MAX(seq), 0) FROM messages));

CREATE TRIGGER messages_seq_high_water AFTER DELETE ON messages
  WHEN old.seq > (SELECT seq_high_water FROM store_identity) BEGIN
  UPDATE store_identity SET seq_high_water = old.seq;
END;
