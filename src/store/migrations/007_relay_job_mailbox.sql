-- A relay job belongs to its message's mailbox: scoped logins (issue 16) see only the jobs of
-- their mailboxes, in the queue listing and in live frames. Copied at enqueue (a message never
-- changes mailbox), so no listing has to join messages, and a job outlives a deleted message.
ALTER TABLE relay_jobs ADD COLUMN mailbox TEXT NOT NULL DEFAULT 'default';
UPDATE relay_jobs SET mailbox = (SELECT m.mailbox FROM messages m WHERE m.id = relay_jobs.message_id)
 WHERE EXISTS (SELECT 1 FROM messages m WHERE m.id = relay_jobs.message_id);
CREATE INDEX relay_jobs_mailbox ON relay_jobs (mailbox, id);
