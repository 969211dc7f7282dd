/**
 * One message (deep link messages/:id): headers and envelope as text, and tabs for the HTML (in a
 * sandboxed iframe the server also locks down with a CSP), its HTML source (html-source.tsx), text,
 * headers, raw source, attachments (attachments.tsx), links and checks (checks.tsx); a download
 * menu (download-menu.tsx). Everything from the message is inserted as text; only the iframe
 * renders its HTML. On a phone the header folds to one line (from, time) until tapped.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { deleteMessage, getDeliveries, getMessage, getRawText, getRelayStatus, htmlUrl, rawUrl, setRead, type MessageDetail } from './api.js';
import { AttachmentsPanel } from './attachments.js';
import { DownloadMenu } from './download-menu.js';
import type { LiveFeed, Navigate } from './feed.js';
import { absoluteTime, formatAddress, formatAddresses, formatSize, shortAddress } from './format.js';
import { useShortcuts } from './hooks.js';
import { ChecksPanel } from './checks.js';
import { Deliveries } from './deliveries.js';
import { HtmlSource } from './html-source.js';
import { MessageTags } from './message-tags.js';
import { isSafeLink } from './links.js';
import { listRoute, type ListContext } from './route.js';
import { onTablistKey } from './tablist-keys.js';
import './message.css';

type Tab = 'html' | 'source' | 'text' | 'headers' | 'raw' | 'attachments' | 'links' | 'checks' | 'deliveries';

const WIDTHS = [
  { id: 'desktop', label: 'Desktop', width: '100%' },
  { id: 'tablet', label: 'Tablet', width: '768px' },
  { id: 'phone', label: 'Phone', width: '375px' },
] as const;

/** More raw source than this is offered as a download rather than rendered into the page. */
const RAW_DISPLAY_LIMIT = 2 * 1024 * 1024;

const IFRAME_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';

interface Props {
  readonly id: string;
  /** The list the message was opened from: where "back" and "delete" return to. */
  readonly list: ListContext;
  readonly feed: LiveFeed;
  readonly navigate: Navigate;
}

const LINE_ENDING: Record<NonNullable<MessageDetail['smtpWarnings']>[number], string> = { 'bare-lf': 'bare LF', 'bare-cr': 'bare CR' };

/**
 * What the sender's SMTP client did wrong, said plainly: real mail servers refuse or rewrite such
 * messages (bare line endings are how SMTP smuggling works), so the app that sent it should know.
 */
function smtpWarningText(warnings: NonNullable<MessageDetail['smtpWarnings']>): string {
  const endings = warnings.map((w) => LINE_ENDING[w]).join(' and ');
  return `This message arrived with ${endings} line endings in its SMTP DATA (only CRLF is allowed, RFC 5321 2.3.8). Many servers refuse such mail or rewrite it; the raw source keeps it as received.`;
}

/**
 * The message's `List-Unsubscribe` (RFC 2369: URIs in angle brackets, comma-separated) and whether
 * it asks for one-click (RFC 8058's `List-Unsubscribe-Post`); null without the header. Shown as
 * the mail client would offer it; the deliverability check judges it.
 */
function listUnsubscribe(headers: MessageDetail['headers']): { raw: string; targets: string[]; oneClick: boolean } | null {
  const header = (name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value;
  const raw = header('list-unsubscribe');
  if (raw === undefined) return null;
  const targets = [...raw.matchAll(/<([^<>]*)>/g)].map((m) => m[1]!.replace(/\s+/g, ''));
  return { raw, targets, oneClick: /^\s*List-Unsubscribe=One-Click\s*$/i.test(header('list-unsubscribe-post') ?? '') };
}

/** The header's one line on a phone: the time today, else the date. */
function shortTime(iso: string): string {
  const at = new Date(iso);
  const today = new Date().toDateString() === at.toDateString();
  return today ? at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : at.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

function backToInbox(navigate: Navigate, list: ListContext) {
  // Back in history when the app brought us here (keeps the inbox's search and page); after a deep
  // link, to the newest page of the list the link names.
  if ((history.state as { inApp?: boolean } | null)?.inApp) history.back();
  else navigate(listRoute(list));
}

export function MessageView({ id, list, feed, navigate }: Props) {
  const [message, setMessage] = useState<MessageDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [deleted, setDeleted] = useState(false);
  const [tab, setTab] = useState<Tab | null>(null);
  /** On a phone, whether the header shows its details (always shown on wider screens). */
  const [detailsOpen, setDetailsOpen] = useState(false);
  useEffect(() => {
    let current = true;
    getMessage(id).then(
      (detail) => {
        if (!current) return;
        setMessage(detail);
        if (!detail.read) void setRead(id, true).catch(() => undefined);
      },
      (err: Error) => current && setError(err.message),
    );
    return () => {
      current = false;
    };
  }, [id]);

  // The Deliveries tab, when relay is on or the message was relayed (a release made elsewhere while
  // the message is open adds it, from its relay:updated frame).
  const [hasDeliveries, setHasDeliveries] = useState(false);
  useEffect(() => {
    let current = true;
    void Promise.all([getRelayStatus().catch(() => null), getDeliveries(id).catch(() => null)]).then(([relay, deliveries]) => {
      if (current && (relay?.enabled || (deliveries?.deliveries.length ?? 0) > 0)) setHasDeliveries(true);
    });
    return () => {
      current = false;
    };
  }, [id]);

  useEffect(
    () =>
      feed.subscribe((frame) => {
        if (frame === 'connected') return;
        if (frame.type === 'relay:updated' && frame.data.messageId === id) setHasDeliveries(true);
        if (frame.type === 'messages:cleared' || (frame.type === 'message:deleted' && frame.data.ids.includes(id))) setDeleted(true);
        if (frame.type === 'message:updated' && frame.data.id === id) {
          const { read } = frame.data;
          setMessage((m) => m && { ...m, read });
        }
      }),
    [feed, id],
  );

  const unsubscribe = useMemo(() => (message ? listUnsubscribe(message.headers) : null), [message]);
  const links = useMemo(() => (message ? message.links.map((link) => ({ ...link, safe: isSafeLink(link.url) })) : []), [message]);
  const activeTab: Tab = tab ?? (message?.parseError ? 'raw' : message?.html ? 'html' : 'text');

  async function remove() {
    await deleteMessage(id).catch(() => undefined);
    navigate(listRoute(list), { replace: true });
  }

  useShortcuts((event) => {
    switch (event.key) {
      case 'Escape':
        backToInbox(navigate, list);
        return true;
      case 'Delete':
        void remove();
        return true;
      case 'u':
        if (message) void setRead(id, !message.read).then((s) => setMessage((m) => m && { ...m, read: s.read }));
        return Boolean(message);
      default:
        return false;
    }
  });

  if (error) {
    return (
      <section class="message" aria-label="Message">
        <p class="error" role="alert">Could not open this message: {error}</p>
        <button type="button" onClick={() => backToInbox(navigate, list)}>Back to inbox</button>
      </section>
    );
  }
  if (!message) return <p class="loading">Loading…</p>;

  const tabs: { id: Tab; label: string }[] = [
    ...(message.html !== null ? [{ id: 'html' as const, label: 'HTML' }, { id: 'source' as const, label: 'HTML source' }] : []),
    { id: 'text', label: 'Text' },
    { id: 'headers', label: 'Headers' },
    { id: 'raw', label: 'Raw' },
    { id: 'attachments', label: `Attachments (${message.attachments.length})` },
    { id: 'links', label: `Links (${links.length})` },
    { id: 'checks', label: 'Checks' },
    ...(hasDeliveries ? [{ id: 'deliveries' as const, label: 'Deliveries' }] : []),
  ];

  return (
    <article class="message" aria-labelledby="message-subject">
      <div class="toolbar" role="toolbar" aria-label="Message actions">
        <button type="button" onClick={() => backToInbox(navigate, list)}>← Inbox</button>
        <button type="button" onClick={() => void setRead(id, !message.read).then((s) => setMessage((m) => m && { ...m, read: s.read }))}>
          {message.read ? 'Mark unread' : 'Mark read'}
        </button>
        <DownloadMenu message={message} />
        <span class="spacer" />
        <button type="button" class="danger" onClick={() => void remove()}>Delete</button>
      </div>

      {deleted && <p class="notice" role="status">This message was deleted (in another tab or by the API).</p>}

      {/* The subject stays the page's heading on every screen: on a phone it is what says which message is open. */}
      <h1 id="message-subject" class="subject">{message.subject || '(no subject)'}</h1>
      <button
        type="button"
        class="header-toggle"
        aria-expanded={detailsOpen}
        aria-controls="message-details"
        onClick={() => setDetailsOpen(!detailsOpen)}
      >
        <span class="header-from">{shortAddress(message.from)}</span>
        <time class="header-time" dateTime={message.date ?? message.receivedAt}>{shortTime(message.date ?? message.receivedAt)}</time>
        <span class="visually-hidden">{detailsOpen ? 'Hide details' : 'Show details'}</span>
      </button>
      <div id="message-details" class={detailsOpen ? 'message-details open' : 'message-details'}>
        <dl class="fields">
          <dt>From</dt>
          <dd>{formatAddress(message.from)}</dd>
          <dt>To</dt>
          <dd>{formatAddresses(message.to) || '—'}</dd>
          {message.cc.length > 0 && (
            <>
              <dt>Cc</dt>
              <dd>{formatAddresses(message.cc)}</dd>
            </>
          )}
          {message.bcc.length > 0 && (
            <>
              <dt>Bcc</dt>
              <dd>{formatAddresses(message.bcc)}</dd>
            </>
          )}
          {message.replyTo.length > 0 && (
            <>
              <dt>Reply-To</dt>
              <dd>{formatAddresses(message.replyTo)}</dd>
            </>
          )}
          <dt>Date</dt>
          <dd>
            {message.date ? absoluteTime(message.date) : '—'}
            <span class="muted"> · received {absoluteTime(message.receivedAt)}</span>
          </dd>
          <dt>Size</dt>
          <dd>{formatSize(message.size)}</dd>
          {unsubscribe && (
            <>
              <dt>Unsubscribe</dt>
              <dd>
                {unsubscribe.targets.length === 0 ? (
                  <code>{unsubscribe.raw}</code>
                ) : (
                  unsubscribe.targets.map((target, i) => (
                    <span key={target}>
                      {i > 0 && ', '}
                      {isSafeLink(target) ? (
                        <a href={target} target="_blank" rel="noopener noreferrer">{target}</a>
                      ) : (
                        <code>{target}</code>
                      )}
                    </span>
                  ))
                )}
                {unsubscribe.oneClick && <span class="muted"> · one-click (RFC 8058)</span>}
              </dd>
            </>
          )}
        </dl>
        <details class="envelope">
          <summary>SMTP envelope</summary>
          <dl class="fields">
            <dt>MAIL FROM</dt>
            <dd>{message.envelope.mailFrom ? `<${message.envelope.mailFrom}>` : '<> (null sender)'}</dd>
            <dt>RCPT TO</dt>
            <dd>{message.envelope.rcptTo.map((r) => `<${r}>`).join(', ')}</dd>
            <dt>Client</dt>
            <dd>{message.envelope.clientAddress} (HELO {message.envelope.heloName || '—'})</dd>
            <dt>TLS</dt>
            <dd>{message.envelope.tls ? 'yes' : 'no'}</dd>
            <dt>Authenticated user</dt>
            <dd>{message.envelope.user ?? '—'}</dd>
          </dl>
        </details>
      </div>

      <MessageTags id={id} mailbox={message.mailbox} initial={message.tags} feed={feed} />

      {message.smtpWarnings && message.smtpWarnings.length > 0 && (
        <p class="notice warning" role="note">
          {smtpWarningText(message.smtpWarnings)}
        </p>
      )}

      {message.parseError && (
        <p class="error" role="alert">
          This message could not be parsed ({message.parseError}). Its raw source is shown below, exactly as received.
        </p>
      )}

      <div class="tabs" role="tablist" aria-label="Message parts" onKeyDown={(e) => onTablistKey(e, tabs.map((t) => t.id), activeTab, setTab)}>
        {tabs.map((t) => (
          <button
            type="button"
            role="tab"
            key={t.id}
            id={`tab-${t.id}`}
            aria-selected={activeTab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={activeTab === t.id ? 0 : -1}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div class="panel" role="tabpanel" id={`panel-${activeTab}`} aria-labelledby={`tab-${activeTab}`}>
        {activeTab === 'html' && <HtmlPanel id={id} />}
        {activeTab === 'source' && message.html !== null && <HtmlSource key={id} html={message.html} />}
        {activeTab === 'text' && <pre class="text-body">{message.text ?? '(this message has no text part)'}</pre>}
        {activeTab === 'headers' && <HeadersPanel message={message} />}
        {activeTab === 'raw' && <RawPanel id={id} />}
        {activeTab === 'attachments' && <AttachmentsPanel messageId={id} attachments={message.attachments} />}
        {activeTab === 'checks' && <ChecksPanel id={id} />}
        {activeTab === 'deliveries' && <Deliveries messageId={id} envelopeRecipients={message.envelope.rcptTo} feed={feed} />}
        {activeTab === 'links' && (
          links.length === 0 ? (
            <p class="empty">No links in this message.</p>
          ) : (
            <ul class="links" aria-label="Links">
              {links.map((link, i) => (
                <li key={i}>
                  {link.safe ? (
                    <a href={link.url} target="_blank" rel="noopener noreferrer">{link.url}</a>
                  ) : (
                    <code title="Not a web or mail link; not made clickable">{link.url}</code>
                  )}
                  {link.text && <span class="anchor-text">{link.text}</span>}
                </li>
              ))}
            </ul>
          )
        )}
      </div>
    </article>
  );
}

function HtmlPanel({ id }: { id: string }) {
  const [remote, setRemote] = useState(false);
  const [width, setWidth] = useState<(typeof WIDTHS)[number]['id']>('desktop');
  return (
    <div class="html-panel">
      <div class="html-controls">
        <button type="button" role="switch" aria-checked={remote} onClick={() => setRemote(!remote)}>
          Load remote content
        </button>
        {!remote && <span class="muted">Remote images and styles are blocked.</span>}
        <span class="spacer" />
        <div role="group" aria-label="Preview width">
          {WIDTHS.map((w) => (
            <button type="button" key={w.id} aria-pressed={width === w.id} onClick={() => setWidth(w.id)}>
              {w.label}
            </button>
          ))}
        </div>
      </div>
      <div class="frame-wrap">
        <iframe
          title="Message HTML"
          sandbox={IFRAME_SANDBOX}
          referrerpolicy="no-referrer"
          src={htmlUrl(id, remote)}
          style={{ width: WIDTHS.find((w) => w.id === width)!.width }}
        />
      </div>
    </div>
  );
}

function HeadersPanel({ message }: { message: MessageDetail }) {
  const [filter, setFilter] = useState('');
  const needle = filter.trim().toLowerCase();
  const rows = needle ? message.headers.filter((h) => h.name.toLowerCase().includes(needle) || h.value.toLowerCase().includes(needle)) : message.headers;
  return (
    <div>
      <input type="search" aria-label="Filter headers" placeholder="Filter headers" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      <table class="headers">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((h, i) => (
            <tr key={i}>
              <th scope="row">{h.name}</th>
              <td>{h.value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RawPanel({ id }: { id: string }) {
  const [raw, setRaw] = useState<{ text: string; truncated: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getRawText(id, RAW_DISPLAY_LIMIT).then(setRaw, (err: Error) => setError(err.message));
  }, [id]);
  return (
    <div>
      <p>
        <a class="button" href={rawUrl(id)} download={`${id}.eml`}>Download .eml</a>
      </p>
      {error && <p class="error" role="alert">{error}</p>}
      {raw?.truncated && <p class="notice">Showing the first {formatSize(RAW_DISPLAY_LIMIT)}; download the .eml for all of it.</p>}
      {raw ? <pre class="raw" aria-label="Raw source">{raw.text}</pre> : !error && <p class="loading">Loading…</p>}
    </div>
  );
}
