-- The PostgreSQL message store (issue 20): what src/store/migrations/*.sql hold for SQLite, in one
-- schema. Text columns that are sorted use COLLATE "C" (byte order, as SQLite's BINARY and NOCASE
-- compare), whatever the database's locale.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- SQLite's LIKE and NOCASE fold ASCII letters only: so does this (`Straße`, `ÉCOLE` and `İ` keep
-- their case). lower() under the "C" collation folds A-Z alone, byte by byte, whatever the
-- database's locale. Immutable, so that indexes can hold it.
CREATE FUNCTION kotak_fold(value text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN lower(value COLLATE "C");

-- One row per caught message. `seq` is the commit order (newest = highest; inserts take an
-- advisory lock so that this holds across nodes) and the paging cursor; `id` is the public
-- identifier, also sent in the SMTP 250 reply.
CREATE TABLE messages (
  seq              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id               text    NOT NULL UNIQUE,
  mailbox          text    COLLATE "C" NOT NULL,
  route_rule       text    NOT NULL,
  received_at      bigint  NOT NULL,            -- epoch ms
  size             bigint  NOT NULL,            -- raw bytes
  read             boolean NOT NULL DEFAULT false,
  subject          text    NOT NULL,
  snippet          text    NOT NULL,
  message_id       text,
  date_header      bigint,                      -- epoch ms of the Date header, if readable
  from_json        text,
  to_json          text    NOT NULL,
  cc_json          text    NOT NULL,
  bcc_json         text    NOT NULL,
  reply_to_json    text    NOT NULL,
  from_search      text    NOT NULL,            -- lower-cased "name <address>" lists for field filters
  to_search        text    NOT NULL,
  cc_search        text    NOT NULL,
  bcc_search       text    NOT NULL,
  reply_to_search  text    NOT NULL,
  sender_search    text    NOT NULL,            -- the envelope sender, ASCII-folded, as LIKE reads it
  has_attachments  boolean NOT NULL,
  has_inline       boolean NOT NULL,
  envelope_json    text    NOT NULL,
  parse_error_json text,                        -- JSON string: a parse error may hold a NUL
  -- Full-text search as SQLite's FTS5 `unicode61 remove_diacritics 2` (store/pg/tokenize.ts):
  -- the distinct tokens (each cut at 64 characters) for the GIN index, and the token stream of
  -- each indexed column (subject, addresses, body, attachments), ' a b ' per column, columns
  -- joined by a newline, where phrases are matched exactly.
  fts_words        tsvector NOT NULL,
  fts_doc          text    NOT NULL,
  -- Too many distinct tokens for a tsvector (rare): fts_words is empty and fts_doc decides.
  fts_oversize     boolean NOT NULL DEFAULT false
);
CREATE INDEX messages_mailbox_seq ON messages (mailbox, seq);
CREATE INDEX messages_received_at ON messages (received_at);
CREATE INDEX messages_with_attachments ON messages (seq) WHERE has_attachments;
CREATE INDEX messages_fts_words ON messages USING gin (fts_words);
CREATE INDEX messages_fts_oversize ON messages (seq) WHERE fts_oversize;
-- Substring filters (`subject:`, `from:` …): LIKE '%…%' looked up by trigrams.
CREATE INDEX messages_subject_trgm ON messages USING gin (kotak_fold(subject) gin_trgm_ops);
CREATE INDEX messages_message_id_trgm ON messages USING gin (kotak_fold(COALESCE(message_id, '')) gin_trgm_ops);
CREATE INDEX messages_from_trgm ON messages USING gin (from_search gin_trgm_ops);
CREATE INDEX messages_to_trgm ON messages USING gin (to_search gin_trgm_ops);
CREATE INDEX messages_cc_trgm ON messages USING gin (cc_search gin_trgm_ops);
CREATE INDEX messages_bcc_trgm ON messages USING gin (bcc_search gin_trgm_ops);
CREATE INDEX messages_reply_to_trgm ON messages USING gin (reply_to_search gin_trgm_ops);

-- The parsed bodies, apart so that listing and filtering never read them. A text or HTML holding a
-- NUL (which PostgreSQL's text cannot) is kept as a JSON string in *_json instead, with the parts
-- SQLite's LIKE would read of it in *_parts.
CREATE TABLE message_bodies (
  seq              bigint  PRIMARY KEY REFERENCES messages (seq) ON DELETE CASCADE,
  text             text,
  text_json        text,
  text_parts       text[],
  html             text,
  html_json        text,
  html_parts       text[],
  headers_json     text    NOT NULL,
  attachments_json text    NOT NULL,
  -- The attachments' file names as LIKE reads them (up to a NUL; '' for none), for substring search.
  attachment_names text[]  NOT NULL,
  -- The text and HTML are the first 256 Ki characters only (see store/full-text.ts).
  text_cut         boolean NOT NULL DEFAULT false
);

-- The exact bytes received (after SMTP dot-unstuffing): the source of truth, in parts of 1 MiB
-- (store/pg/message-store.ts's RAW_PART_BYTES), so that a large message is written from its spool
-- file and read back a part at a time, never whole twice in memory. TOAST compresses each part.
CREATE TABLE message_raw (
  seq              bigint  NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
  part             integer NOT NULL,
  bytes            bytea   NOT NULL,
  PRIMARY KEY (seq, part)
);

-- Tags. A name is unique without regard to (ASCII) case, as SQLite's NOCASE; the first spelling
-- stored is the one shown.
CREATE TABLE tags (
  id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name  text   COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX tags_name ON tags (kotak_fold(name));

CREATE TABLE message_tags (
  seq     bigint NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
  tag_id  bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (seq, tag_id)
);
CREATE INDEX message_tags_tag ON message_tags (tag_id, seq);

-- Per-mailbox counts kept by triggers, so that GET /api/mailboxes and unsearched totals read a
-- handful of rows. A mailbox whose messages are all gone keeps a row of zeros. Statement
-- triggers: a batch insert or a mass delete updates each mailbox's row once.
CREATE TABLE mailbox_counts (
  mailbox text   COLLATE "C" PRIMARY KEY,
  total   bigint NOT NULL,
  unread  bigint NOT NULL,
  size    bigint NOT NULL
);

CREATE FUNCTION kotak_mailbox_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO mailbox_counts AS c (mailbox, total, unread, size)
    SELECT mailbox, COUNT(*), COUNT(*) FILTER (WHERE NOT read), SUM(size) FROM new_rows GROUP BY mailbox ORDER BY mailbox
    ON CONFLICT (mailbox) DO UPDATE SET total = c.total + EXCLUDED.total, unread = c.unread + EXCLUDED.unread, size = c.size + EXCLUDED.size;
  RETURN NULL;
END $$;

CREATE FUNCTION kotak_mailbox_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Rows locked in name order, as inserts take them: two deletes across mailboxes cannot deadlock.
  PERFORM 1 FROM mailbox_counts WHERE mailbox IN (SELECT DISTINCT mailbox FROM old_rows) ORDER BY mailbox FOR UPDATE;
  UPDATE mailbox_counts c SET total = c.total - o.total, unread = c.unread - o.unread, size = c.size - o.size
    FROM (SELECT mailbox, COUNT(*) AS total, COUNT(*) FILTER (WHERE NOT read) AS unread, SUM(size) AS size FROM old_rows GROUP BY mailbox) o
   WHERE c.mailbox = o.mailbox;
  RETURN NULL;
END $$;

-- Only `read` changes today; mailbox and size are covered anyway, so the counts cannot drift.
CREATE FUNCTION kotak_mailbox_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Rows locked in name order, as inserts take them: two deletes across mailboxes cannot deadlock.
  PERFORM 1 FROM mailbox_counts WHERE mailbox IN (SELECT DISTINCT mailbox FROM old_rows) ORDER BY mailbox FOR UPDATE;
  UPDATE mailbox_counts c SET total = c.total - o.total, unread = c.unread - o.unread, size = c.size - o.size
    FROM (SELECT mailbox, COUNT(*) AS total, COUNT(*) FILTER (WHERE NOT read) AS unread, SUM(size) AS size FROM old_rows GROUP BY mailbox) o
   WHERE c.mailbox = o.mailbox;
  INSERT INTO mailbox_counts AS c (mailbox, total, unread, size)
    SELECT mailbox, COUNT(*), COUNT(*) FILTER (WHERE NOT read), SUM(size) FROM new_rows GROUP BY mailbox ORDER BY mailbox
    ON CONFLICT (mailbox) DO UPDATE SET total = c.total + EXCLUDED.total, unread = c.unread + EXCLUDED.unread, size = c.size + EXCLUDED.size;
  RETURN NULL;
END $$;

CREATE TRIGGER mailbox_counts_insert AFTER INSERT ON messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kotak_mailbox_counts_insert();
CREATE TRIGGER mailbox_counts_delete AFTER DELETE ON messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION kotak_mailbox_counts_delete();
CREATE TRIGGER mailbox_counts_update AFTER UPDATE ON messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION kotak_mailbox_counts_update();
