/** The inbox's HTTP client: every URL is relative to the page's <base>, so a base path just works. */
import type { ChaosRefusalList, Delivery, MailboxList, MessageDetail, MessagePage, MessageSummary, PartChecksums, RelayJob, RelayStatus, SmtpInfo, TagList } from '../../src/client/types.js';

// The wire shapes are the route schemas' (through the client's types), never restated here.
export type {
  Address,
  ChaosRefusal,
  ChaosRefusalList,
  AttachmentInfo,
  DeliverabilityReport,
  Delivery,
  Header,
  HtmlCheck,
  LinkCheck,
  Mailbox,
  MailboxList,
  PartChecksums,
  MessageDetail,
  MessagePage,
  MessageSummary,
  RelayJob,
  RelayStatus,
  SmtpInfo,
  SpamCheck,
  Stats,
  TagCount,
  TagList,
} from '../../src/client/types.js';

/** A failed request, with the server's own reason (e.g. why a search query is invalid). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server's error code (`invalid_query`, `invalid_mailbox`, …); '' when the answer was not ours. */
    readonly code = '',
  ) {
    super(message);
  }
}

export function apiUrl(path: string): string {
  return new URL(path, document.baseURI).href;
}

async function request<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(apiUrl(path), init);
  const text = await res.text();
  if (!res.ok) {
    let reason = `${res.status} ${res.statusText}`;
    let code = '';
    try {
      ({ message: reason, code } = (JSON.parse(text) as { error: { code: string; message: string } }).error);
    } catch {
      // Not our JSON (a proxy's error page): the status line is the best reason we have.
    }
    throw new ApiError(res.status, reason, code);
  }
  return JSON.parse(text) as T;
}

const jsonBody = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body),
});

export interface PagePosition {
  readonly cursor?: string | null;
  readonly after?: string | null;
  /** Skip this many matching messages first (from the newest, or from `cursor`); not with `after`. */
  readonly start?: number;
}

/** `?mailbox=` of the scoped routes: null is every mailbox. */
function scopeParams(mailbox: string | null, query = ''): URLSearchParams {
  const params = new URLSearchParams();
  if (mailbox) params.set('mailbox', mailbox);
  if (query) params.set('query', query);
  return params;
}

function withParams(path: string, params: URLSearchParams): string {
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

export function listMessages(mailbox: string | null, query: string, position: PagePosition, limit: number): Promise<MessagePage> {
  const params = scopeParams(mailbox, query);
  params.set('limit', String(limit));
  if (position.after) params.set('after', position.after);
  else if (position.cursor) params.set('cursor', position.cursor);
  if (position.start) params.set('start', String(position.start));
  return request(`api/messages?${params}`);
}

export const getMailboxes = (): Promise<MailboxList> => request('api/mailboxes');
export const getMessage = (id: string): Promise<MessageDetail> => request(`api/messages/${encodeURIComponent(id)}`);
export const setRead = (id: string, read: boolean): Promise<MessageSummary> => request(`api/messages/${encodeURIComponent(id)}`, jsonBody('PATCH', { read }));
export const setReadMatching = (mailbox: string | null, query: string, read: boolean): Promise<{ updated: number }> =>
  request(withParams('api/messages', scopeParams(mailbox)), jsonBody('PATCH', query ? { read, query } : { read }));
export const deleteMessage = (id: string): Promise<{ deleted: number }> => request(`api/messages/${encodeURIComponent(id)}`, { method: 'DELETE' });
export const deleteMatching = (mailbox: string | null, query: string): Promise<{ deleted: number }> =>
  request(withParams('api/messages', scopeParams(mailbox, query)), { method: 'DELETE' });

export const getTags = (mailbox: string | null): Promise<TagList> => request(withParams('api/tags', scopeParams(mailbox)));
/** Replaces the message's tags; answers the message with its tags as stored. */
export const setMessageTags = (id: string, tags: readonly string[]): Promise<MessageSummary> =>
  request(`api/messages/${encodeURIComponent(id)}/tags`, jsonBody('PUT', { tags }));
/** Adds and removes tags on these messages, each keeping its other tags. */
export const changeTags = (ids: readonly string[], add: readonly string[], remove: readonly string[]): Promise<{ updated: number }> =>
  request('api/messages/tags', jsonBody('POST', { ids, add, remove }));

export const rawUrl = (id: string): string => apiUrl(`api/messages/${encodeURIComponent(id)}/raw`);
export const partUrl = (id: string, partId: string): string => apiUrl(`api/messages/${encodeURIComponent(id)}/parts/${partId}`);
export const htmlUrl = (id: string, remote: boolean): string => apiUrl(`api/messages/${encodeURIComponent(id)}/html?remote=${remote ? 1 : 0}`);

/** The raw source as text for display, at most `limit` bytes of it. */
export async function getRawText(id: string, limit: number): Promise<{ text: string; truncated: boolean }> {
  const res = await fetch(rawUrl(id));
  if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const truncated = bytes.length > limit;
  return { text: new TextDecoder('utf-8').decode(truncated ? bytes.subarray(0, limit) : bytes), truncated };
}

/** Where SMTP listens and what it asks of a client: the empty inbox tells people where to send. */
export const getSmtpInfo = (): Promise<SmtpInfo> => request('api/smtp');

/** MD5, SHA-1 and SHA-256 of an attachment, computed by the server now. */
export const getPartChecksums = (id: string, partId: string): Promise<PartChecksums> =>
  request(`api/messages/${encodeURIComponent(id)}/parts/${partId}/checksums`);

/** An attachment's bytes as UTF-8 text (a calendar invite, for display). */
export async function getPartText(id: string, partId: string): Promise<string> {
  const res = await fetch(partUrl(id, partId));
  if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`);
  return new TextDecoder('utf-8').decode(await res.arrayBuffer());
}

export const getRelayStatus = (): Promise<RelayStatus> => request('api/relay');
export const getDeliveries = (id: string): Promise<{ deliveries: Delivery[] }> => request(`api/messages/${encodeURIComponent(id)}/deliveries`);
export const releaseMessage = (id: string, to: readonly string[]): Promise<{ jobs: RelayJob[] }> =>
  request(`api/messages/${encodeURIComponent(id)}/release`, jsonBody('POST', { to }));

/** One of the message checks (`html`, `links`, `spam`, `deliverability`), run by the server now. */
export const getCheck = <T>(id: string, name: string, params: Record<string, string>): Promise<T> =>
  request(withParams(`api/messages/${encodeURIComponent(id)}/checks/${name}`, new URLSearchParams(params)));

// chaos: messages chaos rules refused (never stored), of one mailbox or of all this login may see.
export const getChaosRefusals = (mailbox: string | null): Promise<ChaosRefusalList> => request(withParams('api/chaos/refusals', scopeParams(mailbox)));
export const clearChaosRefusals = (mailbox: string | null): Promise<{ deleted: number }> =>
  request(withParams('api/chaos/refusals', scopeParams(mailbox)), { method: 'DELETE' });
