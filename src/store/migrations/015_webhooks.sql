-- The webhook outbox (issue 22; store/webhook-types.ts): one row per (event, endpoint), written
-- before it is sent (in the insert's transaction for `message:stored`), so no event is lost to a
-- restart or kill -9. `seq` is the order of sending per endpoint; `id` (a UUID) is what the
-- receiver de-duplicates by. Times are epoch milliseconds.
CREATE TABLE webhook_deliveries (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  endpoint TEXT NOT NULL,
  event TEXT NOT NULL,
  mailbox TEXT,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_status_code INTEGER,
  last_error TEXT,
  finished_at INTEGER
);
-- The endpoint's head: its lowest seq among pending and among sending rows (two index seeks).
CREATE INDEX webhook_deliveries_head ON webhook_deliveries (endpoint, status, seq);
-- Listing newest first within mailboxes (scoped logins), by status, and countByStatus.
CREATE INDEX webhook_deliveries_mailbox ON webhook_deliveries (mailbox, seq);
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, seq);

-- Every attempt of a delivery. Kotak's connections leave foreign keys off, so the store deletes
-- attempts itself with their delivery; the cascade says what the rows mean.
CREATE TABLE webhook_attempts (
  id INTEGER PRIMARY KEY,
  delivery_seq INTEGER NOT NULL REFERENCES webhook_deliveries (seq) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_seq, id);
