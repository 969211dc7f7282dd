/** The inbox's HTTP client: every URL is relative to the page's <base>, so a base path just works. */
import type { MessageDetail, MessageSummary } from '../../src/mail/types.js';

export type { Address, AttachmentInfo, Header, MessageDetail, MessageSummary } from '../../src/mail/types.js';

export interface MessagePage {
  readonly total: number;
  readonly messages: MessageSummary[];
  readonly nextCursor: string | null;
  readonly prevCursor: string | null;
}

export interface Stats {
  readonly total: number;
  readonly unread: number;
  readonly size: number;
}

/** A failed request, with the server's own reason (e.g. why a search query is invalid). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
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
    try {
      reason = (JSON.parse(text) as { error: { message: string } }).error.message;
    } catch {
      // Not our JSON (a proxy's error page): the status line is the best reason we have.
    }
    throw new ApiError(res.status, reason);
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
}

export function listMessages(query: string, position: PagePosition, limit: number): Promise<MessagePage> {
  const params = new URLSearchParams({ limit: String(limit) });
  if (query) params.set('query', query);
  if (position.after) params.set('after', position.after);
  else if (position.cursor) params.set('cursor', position.cursor);
  return request(`api/messages?${params}`);
}

export const getStats = (): Promise<Stats> => request('api/stats');
export const getMessage = (id: string): Promise<MessageDetail> => request(`api/messages/${encodeURIComponent(id)}`);
export const setRead = (id: string, read: boolean): Promise<MessageSummary> => request(`api/messages/${encodeURIComponent(id)}`, jsonBody('PATCH', { read }));
export const setReadMatching = (query: string, read: boolean): Promise<{ updated: number }> =>
  request('api/messages', jsonBody('PATCH', query ? { read, query } : { read }));
export const deleteMessage = (id: string): Promise<{ deleted: number }> => request(`api/messages/${encodeURIComponent(id)}`, { method: 'DELETE' });
export const deleteMatching = (query: string): Promise<{ deleted: number }> =>
  request(`api/messages${query ? `?${new URLSearchParams({ query })}` : ''}`, { method: 'DELETE' });

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

export interface RelayJob {
  readonly id: number;
  readonly messageId: string;
  readonly recipient: string;
  readonly status: 'queued' | 'sending' | 'delivered' | 'deferred' | 'failed';
  readonly attempts: number;
  readonly nextAttemptAt: string | null;
  readonly mxHost: string | null;
  readonly reply: string | null;
  readonly reason: string | null;
  readonly tls: string | null;
  readonly history?: readonly { readonly at: string; readonly mxHost: string | null; readonly outcome: string; readonly reply: string | null; readonly transcript: readonly string[] }[];
}

export interface RelayStatus {
  readonly enabled: boolean;
  readonly auto: boolean;
  readonly allow: readonly string[];
  readonly smarthost: string | null;
  readonly requireTls: boolean;
}

export const getRelayStatus = (): Promise<RelayStatus> => request('api/relay');
export const getDeliveries = (id: string): Promise<{ deliveries: RelayJob[] }> => request(`api/messages/${encodeURIComponent(id)}/deliveries`);
export const releaseMessage = (id: string, to: readonly string[]): Promise<{ jobs: RelayJob[] }> =>
  request(`api/messages/${encodeURIComponent(id)}/release`, jsonBody('POST', { to }));
