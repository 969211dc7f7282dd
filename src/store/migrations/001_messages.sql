-- Messages: one row per caught message. `seq` is the commit order (newest = highest) and the
-- paging cursor; `id` is the public identifier, also sent in the SMTP 250 reply.
CREATE TABLE messages (
  seq              INTEGER PRIMARY KEY,
  id               TEXT    NOT NULL UNIQUE,
  mailbox          TEXT    NOT NULL DEFAULT 'default',
  received_at      INTEGER NOT NULL,            -- epoch ms
  size             INTEGER NOT NULL,            -- raw bytes
  read             INTEGER NOT NULL DEFAULT 0,
  subject          TEXT    NOT NULL,
  snippet          TEXT    NOT NULL,
  message_id       TEXT,
  date_header      INTEGER,                     -- epoch ms of the Date header, if readable
  from_json        TEXT,
  to_json          TEXT    NOT NULL,
  cc_json          TEXT    NOT NULL,
  bcc_json         TEXT    NOT NULL,            -- hidden recipients: envelope minus To/Cc, plus Bcc header
  reply_to_json    TEXT    NOT NULL,
  from_search      TEXT    NOT NULL,            -- lower-cased "name <address>" lists for field filters
  to_search        TEXT    NOT NULL,
  cc_search        TEXT    NOT NULL,
  bcc_search       TEXT    NOT NULL,
  reply_to_search  TEXT    NOT NULL,
  has_attachments  INTEGER NOT NULL,
  has_inline       INTEGER NOT NULL,
  envelope_json    TEXT    NOT NULL,
  parse_error      TEXT
);
CREATE INDEX messages_mailbox_seq ON messages (mailbox, seq);
CREATE INDEX messages_received_at ON messages (received_at);
CREATE INDEX messages_unread ON messages (read) WHERE read = 0;

-- The parsed bodies, kept apart so that listing and filtering never page through them.
CREATE TABLE message_bodies (
  seq              INTEGER PRIMARY KEY,
  text             TEXT,
  html             TEXT,
  headers_json     TEXT    NOT NULL,
  attachments_json TEXT    NOT NULL
);

-- The exact bytes received (after SMTP dot-unstuffing): the source of truth.
CREATE TABLE message_raw (
  seq              INTEGER PRIMARY KEY,
  raw              BLOB    NOT NULL
);

-- Full-text index, rowid = messages.seq. unicode61 with prefix queries: fast to build at ingest
-- rates, and what users type ("confirm" finds "confirmation"); substring search for scripts
-- without spaces falls back to LIKE over these same columns.
CREATE VIRTUAL TABLE message_fts USING fts5 (
  subject, addresses, body, attachments,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_delete_cascade AFTER DELETE ON messages BEGIN
  DELETE FROM message_bodies WHERE seq = old.seq;
  DELETE FROM message_raw WHERE seq = old.seq;
  DELETE FROM message_fts WHERE rowid = old.seq;
END;
