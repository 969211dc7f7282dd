-- Relay queue for many nodes (issue 20): one job per (message, recipient), its status, and every
-- attempt; the same columns as SQLite's relay_jobs (004 + 007), times in epoch milliseconds.
-- No foreign key to messages: a job outlives its message (its delivery then fails, as on SQLite).
-- A job being delivered ('sending') is leased: `lease_owner` is the node holding it, `lease_until`
-- when the lease runs out (another node may then claim it), and `claim_seq` counts claims, so an
-- outcome from an older claim of the same job is told apart from the current one.
CREATE TABLE relay_jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id text NOT NULL,
  mailbox text NOT NULL DEFAULT 'default',
  recipient text NOT NULL,
  domain text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'sending', 'delivered', 'deferred', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint,
  give_up_at bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  mx_host text,
  reply text,
  reason text,
  tls text,
  lease_owner text,
  lease_until bigint,
  claim_seq bigint NOT NULL DEFAULT 0
);
-- claimDue's two ways in: jobs whose time has come, and jobs whose lease ran out.
CREATE INDEX relay_jobs_waiting ON relay_jobs (next_attempt_at, id) WHERE status IN ('queued', 'deferred');
CREATE INDEX relay_jobs_leased ON relay_jobs (lease_until) WHERE status = 'sending';
CREATE INDEX relay_jobs_message ON relay_jobs (message_id);
CREATE INDEX relay_jobs_mailbox ON relay_jobs (mailbox, id);

CREATE TABLE relay_attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id bigint NOT NULL REFERENCES relay_jobs (id) ON DELETE CASCADE,
  at bigint NOT NULL,
  mx_host text,
  outcome text NOT NULL,
  reply text,
  transcript jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX relay_attempts_job ON relay_attempts (job_id);
