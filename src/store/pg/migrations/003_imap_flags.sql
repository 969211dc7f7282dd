-- IMAP (issue 21): the flags IMAP stores beside Kotak's read state, and UIDVALIDITY.
-- A constant default adds a column without rewriting the table (PostgreSQL 11+); the values go
-- with their row. UIDs are seqs, which the identity column never gives twice.
ALTER TABLE messages ADD COLUMN flagged boolean NOT NULL DEFAULT false;
ALTER TABLE messages ADD COLUMN deleted boolean NOT NULL DEFAULT false;

-- One row: IMAP's UIDVALIDITY, drawn once for this database (1..2^31-1).
CREATE TABLE store_identity (
  one          boolean PRIMARY KEY DEFAULT true CHECK (one),
  uid_validity integer NOT NULL CHECK (uid_validity BETWEEN 1 AND 2147483647)
);
INSERT INTO store_identity (uid_validity) VALUES (floor(random() * 2147483646)::integer + 1);
