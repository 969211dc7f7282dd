/**
 * Messages chaos rules refused, above the list they would have joined: a banner with how many and
 * the last few (what the client was answered, sender and recipients). A refused message was never
 * stored, so it is no row of the list; the banner says so plainly. Kept current by `chaos:refused`
 * frames; "Dismiss" forgets them on the server (DELETE /api/chaos/refusals).
 */
import { useEffect, useState } from 'preact/hooks';
import { clearChaosRefusals, getChaosRefusals, type ChaosRefusalList } from './api.js';
import type { LiveFeed } from './feed.js';
import { absoluteTime } from './format.js';
import { frameMailbox } from './live.js';

/** How many of the kept refusals the banner lists. */
const SHOWN = 5;

interface Props {
  /** The mailbox the list shows; null: every mailbox the login may see. */
  readonly mailbox: string | null;
  readonly feed: LiveFeed;
}

export function ChaosRefusals({ mailbox, feed }: Props) {
  const [list, setList] = useState<ChaosRefusalList | null>(null);

  useEffect(() => {
    let current = true;
    const load = () =>
      getChaosRefusals(mailbox).then(
        (answer) => current && setList(answer),
        // An older server without chaos, or a passing error: no banner rather than an error.
        () => current && setList(null),
      );
    void load();
    const unsubscribe = feed.subscribe((frame) => {
      if (frame === 'connected') return void load();
      if (frame.type !== 'chaos:refused') return;
      if (mailbox && frameMailbox(frame) !== mailbox) return;
      void load();
    });
    return () => {
      current = false;
      unsubscribe();
    };
  }, [mailbox, feed]);

  if (!list || list.total === 0) return null;
  const dismiss = () => void clearChaosRefusals(mailbox).then(() => setList({ total: 0, refusals: [] }));
  return (
    <section class="chaos-refusals" role="status" aria-label="Refused by chaos rules">
      <p>
        <strong>
          {list.total.toLocaleString()} {list.total === 1 ? 'message' : 'messages'} refused by chaos rules
        </strong>{' '}
        (not stored, so not in the list below)
        <button type="button" class="dismiss" onClick={dismiss}>Dismiss</button>
      </p>
      <ul>
        {list.refusals.slice(0, SHOWN).map((refusal) => (
          <li key={`${refusal.at}-${refusal.ruleId}-${refusal.mailbox}`}>
            <time dateTime={refusal.at} title={absoluteTime(refusal.at)}>{new Date(refusal.at).toLocaleTimeString()}</time>{' '}
            <code>{refusal.reply ?? 'connection dropped'}</code> at {refusal.stage === 'end' ? 'end of data' : refusal.stage.toUpperCase()}: {refusal.from || '<>'} → {refusal.to.join(', ')}
            {!mailbox && <span class="mailbox"> ({refusal.mailbox})</span>} <span class="rule">rule {refusal.ruleId}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
