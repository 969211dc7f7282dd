/**
 * Relay in the message view: a Release button (when relay is on) that queues the message for real
 * delivery to chosen, allowlisted recipients, and the delivery panel with each recipient's status,
 * kept current by `relay:updated` frames.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, getDeliveries, getRelayStatus, releaseMessage, type RelayJob, type RelayStatus } from './api.js';
import type { LiveFeed } from './feed.js';
import { absoluteTime } from './format.js';
import { createCoalescer } from './hooks.js';

interface Props {
  readonly messageId: string;
  readonly envelopeRecipients: readonly string[];
  readonly feed: LiveFeed;
}

export function Deliveries({ messageId, envelopeRecipients, feed }: Props) {
  const [relay, setRelay] = useState<RelayStatus | null>(null);
  const [jobs, setJobs] = useState<RelayJob[]>([]);
  const [releasing, setReleasing] = useState(false);
  const [recipients, setRecipients] = useState(envelopeRecipients.join(', '));
  const [error, setError] = useState<string | null>(null);

  const refresh = useMemo(
    () =>
      createCoalescer(async () => {
        try {
          setJobs((await getDeliveries(messageId)).deliveries);
        } catch {
          // The next frame or reconnection tries again.
        }
      }, 100),
    [messageId],
  );

  useEffect(() => {
    getRelayStatus().then(setRelay, () => setRelay(null));
    void refresh(true);
  }, [refresh]);

  useEffect(
    () =>
      feed.subscribe((frame) => {
        if (frame === 'connected' || (frame.type === 'relay:updated' && frame.data.messageId === messageId)) void refresh();
      }),
    [feed, messageId, refresh],
  );

  async function submit(event: Event) {
    event.preventDefault();
    setError(null);
    const to = recipients.split(/[\s,;]+/).map((r) => r.trim()).filter(Boolean);
    try {
      await releaseMessage(messageId, to);
      setReleasing(false);
      void refresh(true);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }

  if (!relay?.enabled && jobs.length === 0) return null;
  return (
    <section class="deliveries" aria-label="Deliveries">
      <div class="deliveries-head">
        <h2>Deliveries</h2>
        {relay?.enabled && !releasing && (
          <button type="button" onClick={() => setReleasing(true)}>Release…</button>
        )}
      </div>
      {releasing && (
        <form class="release" onSubmit={submit} aria-label="Release this message">
          <label>
            Deliver for real to (allowed: {relay?.allow.join(', ')})
            <input type="text" name="to" value={recipients} onInput={(e) => setRecipients((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="btn-primary">Release</button>
          <button type="button" onClick={() => setReleasing(false)}>Cancel</button>
          {error && <p class="error" role="alert">{error}</p>}
        </form>
      )}
      {jobs.length > 0 ? (
        <table class="delivery-table">
          <thead>
            <tr>
              <th scope="col">Recipient</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Server</th>
              <th scope="col">Reply</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((job) => (
              <tr key={job.id} data-status={job.status}>
                <td>{job.recipient}</td>
                <td>
                  <span class={`status status-${job.status}`}>{job.status}</span>
                  {job.nextAttemptAt && job.status !== 'delivered' && <span class="muted"> · next {absoluteTime(job.nextAttemptAt)}</span>}
                </td>
                <td>{job.attempts}</td>
                <td>
                  {job.mxHost ?? '—'}
                  {job.tls && <span class="muted"> ({job.tls})</span>}
                </td>
                <td>{job.reply ?? job.reason ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">Not relayed. Release sends it for real, to allowed recipients only.</p>
      )}
    </section>
  );
}
