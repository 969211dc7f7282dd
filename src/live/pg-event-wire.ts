/**
 * What one node tells the others about its events, through PostgreSQL NOTIFY (pg-events.ts): ids,
 * not data. A `message:stored` carries only message ids (the receiver re-reads the summaries), a
 * relay update only the job's id, tags only which messages changed; small events carry their few
 * fields. Pure: no I/O.
 *
 * A NOTIFY payload must be shorter than 8000 bytes. `packPayloads` packs consecutive events into as
 * few payloads as fit, merges consecutive `message:stored`, and splits an event with a long list
 * (ids of a big delete, messages of a bulk tag change, mailboxes of a scope) into several events of
 * the same kind, each meaning the same for its part.
 */
import type { MailboxScope } from '../mail/mailbox-scope.js';

export type WireEvent =
  | { readonly e: 'message:stored'; readonly ids: readonly string[] }
  | { readonly e: 'message:updated'; readonly id: string; readonly mailbox: string; readonly read: boolean }
  | { readonly e: 'messages:updated'; readonly mailbox: string; readonly read: boolean; readonly count: number }
  | { readonly e: 'message:deleted'; readonly mailbox: string; readonly ids: readonly string[] }
  | { readonly e: 'messages:cleared' }
  | { readonly e: 'message:flags'; readonly mailbox: string; readonly ids: readonly string[] }
  | { readonly e: 'tags:set'; readonly messages: readonly { readonly id: string; readonly mailbox: string }[] }
  | { readonly e: 'tags:bulk'; readonly scope: MailboxScope }
  | { readonly e: 'relay:updated'; readonly id: number; readonly messageId: string };

export interface WirePayload {
  /** The node that published it. */
  readonly n: string;
  /** Its sequence number at that node (also keeps two payloads of one batch from being identical, which NOTIFY would fold into one). */
  readonly s: number;
  readonly v: readonly WireEvent[];
}

/** Under PostgreSQL's 8000-byte payload limit, with room to spare. */
export const MAX_PAYLOAD_BYTES = 7900;

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/** The list an event can be split along, and how to rebuild the event with part of it. */
function splitter(event: WireEvent): { items: readonly unknown[]; with: (part: unknown[]) => WireEvent } | null {
  switch (event.e) {
    case 'message:stored':
      return { items: event.ids, with: (ids) => ({ ...event, ids: ids as string[] }) };
    case 'message:deleted':
      return { items: event.ids, with: (ids) => ({ ...event, ids: ids as string[] }) };
    case 'message:flags':
      return { items: event.ids, with: (ids) => ({ ...event, ids: ids as string[] }) };
    case 'tags:set':
      return { items: event.messages, with: (messages) => ({ ...event, messages: messages as { id: string; mailbox: string }[] }) };
    case 'tags:bulk':
      return event.scope.kind === 'only'
        ? { items: event.scope.mailboxes, with: (mailboxes) => ({ e: 'tags:bulk', scope: { kind: 'only', mailboxes: mailboxes as string[] } }) }
        : null;
    default:
      return null;
  }
}

/** Consecutive `message:stored` become one (their ids in order). */
function mergeStored(events: readonly WireEvent[]): WireEvent[] {
  const merged: WireEvent[] = [];
  for (const event of events) {
    const last = merged.at(-1);
    if (event.e === 'message:stored' && last?.e === 'message:stored') merged[merged.length - 1] = { e: 'message:stored', ids: [...last.ids, ...event.ids] };
    else merged.push(event);
  }
  return merged;
}

/** Splits an event into parts of at most `room` bytes each; an event that cannot fit is returned in `dropped`. */
function splitToFit(event: WireEvent, room: number, dropped: WireEvent[]): WireEvent[] {
  if (bytes(event) <= room) return [event];
  const split = splitter(event);
  if (!split) {
    dropped.push(event);
    return [];
  }
  const parts: WireEvent[] = [];
  const empty = bytes(split.with([]));
  let part: unknown[] = [];
  let size = empty;
  for (const item of split.items) {
    const itemBytes = bytes(item) + (part.length > 0 ? 1 : 0);
    if (empty + bytes(item) > room) {
      dropped.push(split.with([item]));
      continue;
    }
    if (size + itemBytes > room) {
      parts.push(split.with(part));
      part = [];
      size = empty;
    }
    size += bytes(item) + (part.length > 0 ? 1 : 0);
    part.push(item);
  }
  if (part.length > 0) parts.push(split.with(part));
  return parts;
}

/**
 * The payloads (JSON text, in order) that tell these events; sequence numbers start at `firstSeq`.
 * `dropped`: events that cannot be told within the limit even alone (none that Kotak makes).
 */
export function packPayloads(node: string, firstSeq: number, events: readonly WireEvent[], maxBytes = MAX_PAYLOAD_BYTES): { payloads: string[]; dropped: WireEvent[] } {
  const dropped: WireEvent[] = [];
  // The envelope's own bytes, with the widest sequence number it could carry.
  const envelope = bytes({ n: node, s: Number.MAX_SAFE_INTEGER, v: [] });
  const room = maxBytes - envelope;
  const payloads: string[] = [];
  let batch: WireEvent[] = [];
  let size = 0;
  const flush = () => {
    if (batch.length === 0) return;
    payloads.push(JSON.stringify({ n: node, s: firstSeq + payloads.length, v: batch } satisfies WirePayload));
    batch = [];
    size = 0;
  };
  for (const event of mergeStored(events)) {
    for (const part of splitToFit(event, room, dropped)) {
      const partBytes = bytes(part) + (batch.length > 0 ? 1 : 0);
      if (size + partBytes > room) flush();
      size += bytes(part) + (batch.length > 0 ? 1 : 0);
      batch.push(part);
    }
  }
  flush();
  return { payloads, dropped };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

function isScope(v: unknown): v is MailboxScope {
  if (typeof v !== 'object' || v === null) return false;
  const scope = v as { kind?: unknown; mailboxes?: unknown };
  return scope.kind === 'all' || (scope.kind === 'only' && isStringList(scope.mailboxes));
}

function isWireEvent(v: unknown): v is WireEvent {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  switch (o.e) {
    case 'message:stored':
      return isStringList(o.ids);
    case 'message:updated':
      return isString(o.id) && isString(o.mailbox) && typeof o.read === 'boolean';
    case 'messages:updated':
      return isString(o.mailbox) && typeof o.read === 'boolean' && Number.isInteger(o.count);
    case 'message:deleted':
    case 'message:flags':
      return isString(o.mailbox) && isStringList(o.ids);
    case 'messages:cleared':
      return true;
    case 'tags:set':
      return Array.isArray(o.messages) && o.messages.every((m: unknown) => typeof m === 'object' && m !== null && isString((m as { id?: unknown }).id) && isString((m as { mailbox?: unknown }).mailbox));
    case 'tags:bulk':
      return isScope(o.scope);
    case 'relay:updated':
      return Number.isSafeInteger(o.id) && isString(o.messageId);
    default:
      return false;
  }
}

/** A payload as another node sent it, or null when it is not one (anyone who may connect can NOTIFY). */
export function parsePayload(text: string): WirePayload | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const o = value as Record<string, unknown>;
  if (!isString(o.n) || !Number.isSafeInteger(o.s) || !Array.isArray(o.v) || !o.v.every(isWireEvent)) return null;
  return { n: o.n, s: o.s as number, v: o.v };
}
