/** Tag names as Mailpit accepts them, and tag changes on their way to the Mailpit WebSocket. */
import type { EventBus } from '../../events.js';

/** Mailpit's rule: letters, digits, space, `-`, `_`, `.` and `@`, 1 to 100 of them. */
const MAX_TAG_LENGTH = 100;
const INVALID_TAG_CHARS = /[^a-zA-Z0-9 \-_.@]/g;

/** The tag as Mailpit stores it (other characters silently dropped), or null when nothing usable is left. */
export function cleanTag(name: string): string | null {
  const cleaned = name.replace(INVALID_TAG_CHARS, '').replace(/\s+/g, ' ').trim();
  return cleaned.length > 0 && cleaned.length <= MAX_TAG_LENGTH ? cleaned : null;
}

/** Cleaned, unusable ones dropped, and unique without regard to case (the first spelling wins). */
export function cleanTags(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const name of names) {
    const tag = cleanTag(name);
    if (tag === null || seen.has(tag.toLowerCase())) continue;
    seen.add(tag.toLowerCase());
    tags.push(tag);
  }
  return tags;
}

export type TagChange =
  /** These messages now have exactly these tags. */
  | { readonly kind: 'set'; readonly messages: readonly { readonly id: string; readonly tags: readonly string[] }[] }
  /** A tag was renamed or removed everywhere: too broad to list, clients refetch. */
  | { readonly kind: 'bulk' };

type Listener = (change: TagChange) => void;

/**
 * Kotak's event bus has no tag event because only this API has tags so far. The routes and the
 * WebSocket are built apart (src/app.ts) and share only the bus, so the bus instance pairs them up.
 * Should Kotak's own API gain tags, this becomes a bus event.
 */
const feeds = new WeakMap<EventBus, Set<Listener>>();

export function onTagChange(bus: EventBus, listener: Listener): () => void {
  let listeners = feeds.get(bus);
  if (!listeners) feeds.set(bus, (listeners = new Set()));
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function announceTagChange(bus: EventBus, change: TagChange): void {
  for (const listener of feeds.get(bus) ?? []) listener(change);
}
