-- The webhook outbox for many nodes (issue 22): the same columns as SQLite's (migration 015),
-- times in epoch milliseconds, plus the lease of a delivery being sent: `lease_owner` is the node
-- sending it, `lease_until` when another node may take it over, `claim_seq` counts claims so an
-- outcome from an older claim is told apart from the current one (as relay_jobs, 002).
CREATE TABLE webhook_deliveries (
  seq bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  endpoint text NOT NULL,
  event text NOT NULL,
  mailbox text,
  payload text NOT NULL,
  created_at bigint NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint,
  last_status_code integer,
  last_error text,
  finished_at bigint,
  lease_owner text,
  lease_until bigint,
  claim_seq bigint NOT NULL DEFAULT 0
);
-- The endpoint's head: its lowest seq among the deliveries not yet finished.
CREATE INDEX webhook_deliveries_head ON webhook_deliveries (endpoint, seq) WHERE status IN ('pending', 'sending');
-- Listing newest first within mailboxes (scoped logins) and by status; pruning finished ones.
CREATE INDEX webhook_deliveries_mailbox ON webhook_deliveries (mailbox, seq);
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, seq);

CREATE TABLE webhook_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_seq bigint NOT NULL REFERENCES webhook_deliveries (seq) ON DELETE CASCADE,
  at bigint NOT NULL,
  status_code integer,
  error text,
  duration_ms integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_seq, id);
