-- Relay queue: one job per (message, recipient), with its status and every attempt.
CREATE TABLE relay_jobs (
  id INTEGER PRIMARY KEY,
  message_id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  domain TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'delivered', 'deferred', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  give_up_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  mx_host TEXT,
  reply TEXT,
  reason TEXT,
  tls TEXT
);
CREATE INDEX relay_jobs_due ON relay_jobs (status, next_attempt_at);
CREATE INDEX relay_jobs_message ON relay_jobs (message_id);

CREATE TABLE relay_attempts (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES relay_jobs (id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  mx_host TEXT,
  outcome TEXT NOT NULL,
  reply TEXT,
  transcript_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX relay_attempts_job ON relay_attempts (job_id);
