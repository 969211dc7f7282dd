/**
 * The Attachments tab: one card per attachment (a thumbnail for raster images, name, type, size,
 * a download link, and checksums computed by the server on demand), and any calendar invite among
 * them shown as the event it describes (calendar.ts).
 */
import { useEffect, useState } from 'preact/hooks';
import { getPartChecksums, getPartText, partUrl, type AttachmentInfo, type PartChecksums } from './api.js';
import { formatCalendarTime, isCalendarPart, methodLabel, parseCalendar, type CalendarEvent, type CalendarPerson } from './calendar.js';
import { formatSize } from './format.js';

/**
 * Image types the browser draws as pictures. SVG is left out: the part route serves it as
 * application/octet-stream (an SVG is a document that can carry script), so it has no thumbnail.
 */
const THUMBNAIL_TYPES = /^image\/(png|jpe?g|gif|webp|bmp|avif)$/i;

/** An invite bigger than this is not read for display (real ones are a few KB). */
const CALENDAR_READ_LIMIT = 1024 * 1024;

/** Short labels for the types that often come without a file name. */
const TYPE_LABELS: Readonly<Record<string, string>> = { 'text/calendar': 'ICS', 'text/plain': 'TXT', 'text/html': 'HTML', 'message/rfc822': 'EML', 'message/delivery-status': 'DSN' };

/** The file's extension, else a label for its type (a part without a name is called part-1.3). */
function kindLabel(a: AttachmentInfo): string {
  const extension = /\.([a-z0-9]{1,5})$/i.exec(a.filename ?? '')?.[1];
  if (extension) return extension.toUpperCase();
  const type = a.contentType.toLowerCase();
  return TYPE_LABELS[type] ?? (type.split('/')[1] ?? 'file').replace(/^(x-|vnd\.)/, '').slice(0, 5).toUpperCase();
}

export const attachmentName = (a: AttachmentInfo): string => a.filename ?? `part-${a.id}`;

function CalendarEvents({ messageId, attachments }: { messageId: string; attachments: readonly AttachmentInfo[] }) {
  const events = useCalendarEvents(messageId, attachments.filter((a) => isCalendarPart(a.contentType, a.filename)));
  return (
    <>
      {events.map(({ method, event }, i) => (
        <CalendarEventCard key={i} event={event} method={methodLabel(method)} />
      ))}
    </>
  );
}

export function AttachmentsPanel({ messageId, attachments }: { messageId: string; attachments: readonly AttachmentInfo[] }) {
  if (attachments.length === 0) return <p class="empty">No attachments.</p>;
  return (
    <div class="attachments-panel">
      <CalendarEvents messageId={messageId} attachments={attachments} />
      <ul class="attachment-cards" aria-label="Attachments">
        {attachments.map((a) => (
          <AttachmentCard key={a.id} messageId={messageId} attachment={a} />
        ))}
      </ul>
    </div>
  );
}

function AttachmentCard({ messageId, attachment }: { messageId: string; attachment: AttachmentInfo }) {
  const name = attachmentName(attachment);
  const url = partUrl(messageId, attachment.id);
  const extension = kindLabel(attachment);
  return (
    <li class="attachment-card">
      <div class="attachment-thumb" aria-hidden={THUMBNAIL_TYPES.test(attachment.contentType) ? undefined : 'true'}>
        {THUMBNAIL_TYPES.test(attachment.contentType) ? (
          <img src={url} alt={`Preview of ${name}`} loading="lazy" decoding="async" />
        ) : (
          <span class="attachment-kind">{extension}</span>
        )}
      </div>
      <div class="attachment-info">
        <span class="attachment-name">
          {name}
          {attachment.inline && <span class="muted"> (inline)</span>}
        </span>
        <span class="attachment-meta">
          <span class="attachment-type">{attachment.contentType}</span>
          <span class="attachment-size">{formatSize(attachment.size)}</span>
        </span>
        <span class="attachment-actions">
          <a class="button" href={url} download={name} aria-label={`Download ${name}`}>Download</a>
          <Checksums messageId={messageId} attachment={attachment} name={name} />
        </span>
      </div>
    </li>
  );
}

/** MD5, SHA-1 and SHA-256, as Mailpit shows them; asked of the server only when wanted (it reads the whole part). */
function Checksums({ messageId, attachment, name }: { messageId: string; attachment: AttachmentInfo; name: string }) {
  const [state, setState] = useState<'idle' | 'loading' | PartChecksums | Error>('idle');
  if (state === 'idle' || state === 'loading') {
    return (
      <button
        type="button"
        class="btn btn-secondary"
        aria-label={`Checksums of ${name}`}
        disabled={state === 'loading'}
        onClick={() => {
          setState('loading');
          getPartChecksums(messageId, attachment.id).then(setState, (err: Error) => setState(err));
        }}
      >
        {state === 'loading' ? 'Computing…' : 'Checksums'}
      </button>
    );
  }
  if (state instanceof Error) return <p class="error" role="alert">Checksums failed: {state.message}</p>;
  return (
    <dl class="checksums" aria-label={`Checksums of ${name}`}>
      <dt>SHA-256</dt>
      <dd><code>{state.sha256}</code></dd>
      <dt>SHA-1</dt>
      <dd><code>{state.sha1}</code></dd>
      <dt>MD5</dt>
      <dd><code>{state.md5}</code></dd>
    </dl>
  );
}

/**
 * The events of every invite among the attachments, each once: Google and Outlook send the same
 * invite twice (a text/calendar alternative and an .ics attachment).
 */
function useCalendarEvents(messageId: string, parts: readonly AttachmentInfo[]): { method: string | null; event: CalendarEvent }[] {
  const [events, setEvents] = useState<{ method: string | null; event: CalendarEvent }[]>([]);
  const partIds = parts.map((p) => p.id).join(' ');
  useEffect(() => {
    let current = true;
    const readable = parts.filter((p) => p.size <= CALENDAR_READ_LIMIT);
    Promise.all(readable.map((p) => getPartText(messageId, p.id).then(parseCalendar, () => null))).then((invites) => {
      if (!current) return;
      const seen = new Set<string>();
      const found: { method: string | null; event: CalendarEvent }[] = [];
      for (const invite of invites) {
        for (const event of invite?.events ?? []) {
          const key = `${event.uid ?? ''}|${JSON.stringify(event.start)}|${event.summary ?? ''}`;
          if (seen.has(key)) continue;
          seen.add(key);
          found.push({ method: invite!.method, event });
        }
      }
      setEvents(found);
    });
    return () => {
      current = false;
    };
    // The parts are named by their ids: a new array of the same parts is the same request.
  }, [messageId, partIds]);
  return events;
}

function personText(p: CalendarPerson): string {
  return p.name && p.name !== p.address ? `${p.name} <${p.address}>` : p.address;
}

const PARTICIPATION: Readonly<Record<string, string>> = {
  ACCEPTED: 'accepted',
  DECLINED: 'declined',
  TENTATIVE: 'tentative',
  'NEEDS-ACTION': 'no answer yet',
  DELEGATED: 'delegated',
};

function CalendarEventCard({ event, method }: { event: CalendarEvent; method: string | null }) {
  const cancelled = event.status === 'CANCELLED' || method?.startsWith('Cancelled');
  return (
    <section class={`calendar-event${cancelled ? ' cancelled' : ''}`} aria-label={`Calendar event: ${event.summary ?? 'untitled'}`}>
      <header>
        <span class="calendar-method">{method ?? 'Calendar event'}</span>
        <h2>{event.summary ?? '(untitled event)'}</h2>
      </header>
      <dl class="fields">
        {event.start && (
          <>
            <dt>Starts</dt>
            <dd>{formatCalendarTime(event.start)}</dd>
          </>
        )}
        {(event.end || event.duration) && (
          <>
            <dt>Ends</dt>
            <dd>{event.end ? formatCalendarTime(event.end) : `after ${event.duration}`}</dd>
          </>
        )}
        {event.location && (
          <>
            <dt>Location</dt>
            <dd class="calendar-location">{event.location}</dd>
          </>
        )}
        {event.organizer && (
          <>
            <dt>Organiser</dt>
            <dd>{personText(event.organizer)}</dd>
          </>
        )}
        {event.attendees.length > 0 && (
          <>
            <dt>Attendees</dt>
            <dd>
              <ul class="calendar-attendees">
                {event.attendees.map((a, i) => (
                  <li key={i}>
                    {personText(a)}
                    {a.status && <span class="muted"> · {PARTICIPATION[a.status] ?? a.status.toLowerCase()}</span>}
                    {a.role === 'OPT-PARTICIPANT' && <span class="muted"> · optional</span>}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
        {event.status && (
          <>
            <dt>Status</dt>
            <dd>{event.status.toLowerCase()}</dd>
          </>
        )}
      </dl>
    </section>
  );
}
