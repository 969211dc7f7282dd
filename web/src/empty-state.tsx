/**
 * What an empty list says, so that it says what to do: an empty inbox shows where to send mail
 * (the SMTP address from GET /api/smtp) with a swaks and a nodemailer one-liner to copy; an empty
 * search offers to clear it; an empty mailbox says so.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { getSmtpInfo, type SmtpInfo } from './api.js';
import { nodemailerCommand, smtpAddress, swaksCommand } from './send-snippets.js';
import './empty-state.css';

interface Props {
  /** The mailbox shown, null for every mailbox. */
  readonly mailbox: string | null;
  /** The search, '' for none. */
  readonly query: string;
  readonly onClearSearch: () => void;
}

export function EmptyState({ mailbox, query, onClearSearch }: Props) {
  if (query) {
    return (
      <div class="empty-state" role="status">
        <h2 class="empty-title">No messages match this search</h2>
        <p class="muted">
          Nothing {mailbox ? `in ${mailbox} ` : ''}matches <code>{query}</code>.
        </p>
        <button type="button" class="btn btn-primary" onClick={onClearSearch}>
          Clear search
        </button>
      </div>
    );
  }
  if (mailbox) {
    return (
      <div class="empty-state" role="status">
        <h2 class="empty-title">No messages in {mailbox}</h2>
        <p class="muted">Mail routed to this mailbox shows up here as soon as it arrives.</p>
      </div>
    );
  }
  return <EmptyInbox />;
}

function EmptyInbox() {
  const [info, setInfo] = useState<SmtpInfo | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let current = true;
    getSmtpInfo().then(
      (answer) => current && setInfo(answer),
      () => current && setFailed(true),
    );
    return () => {
      current = false;
    };
  }, []);

  const host = location.hostname;
  return (
    <div class="empty-state empty-inbox">
      <h2 class="empty-title">No messages yet</h2>
      {info ? (
        <>
          <p>
            Point your app's SMTP settings at <strong class="smtp-address">{smtpAddress(info, host)}</strong>
            {info.auth !== 'off' && ' (with SMTP AUTH)'}
            {info.tls === 'implicit' ? ' over TLS' : info.tls === 'required' ? ' with STARTTLS' : ''}; every message it sends shows up here at once.
          </p>
          <Snippet label="Send one with swaks" text={swaksCommand(info, host)} />
          <Snippet label="Send one with nodemailer (in a project that has it installed)" text={nodemailerCommand(info, host)} />
        </>
      ) : (
        <p class="muted">{failed ? "Point your app's SMTP settings at Kotak's SMTP port (1025 unless --smtp says otherwise); messages show up here at once." : 'Loading…'}</p>
      )}
    </div>
  );
}

type CopyState = 'idle' | 'copied' | 'selected';

const COPY_MESSAGE: Record<CopyState, string> = {
  idle: '',
  copied: 'Copied',
  // No clipboard (a page served over plain HTTP from another machine): the text is selected instead.
  selected: 'Selected: press Ctrl+C (⌘C) to copy',
};

function Snippet({ label, text }: { label: string; text: string }) {
  const [state, setState] = useState<CopyState>('idle');
  const code = useRef<HTMLElement>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      if (code.current) window.getSelection()?.selectAllChildren(code.current);
      setState('selected');
    }
  }

  return (
    <figure class="send-snippet">
      <figcaption>{label}</figcaption>
      <div class="send-snippet-body">
        <pre>
          <code ref={code}>{text}</code>
        </pre>
        <button type="button" class="btn btn-secondary send-snippet-copy" aria-label={`Copy: ${label}`} onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <span class="send-snippet-status" role="status">
        {COPY_MESSAGE[state]}
      </span>
    </figure>
  );
}
