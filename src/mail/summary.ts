/** Deriving the list row and search fields of a message from what parsing produced. Pure. */
import type { Address, Envelope, MessageSummary, NewMessage, ParsedMessage } from './types.js';

/** Envelope recipients that no To or Cc header names, plus any Bcc header: the "hidden" ones. */
export function hiddenRecipients(parsed: ParsedMessage | null, envelope: Envelope): Address[] {
  const shown = new Set<string>();
  for (const a of [...(parsed?.to ?? []), ...(parsed?.cc ?? [])]) shown.add(a.address.toLowerCase());
  const hidden: Address[] = [];
  const add = (a: Address): void => {
    const key = a.address.toLowerCase();
    if (shown.has(key)) return;
    shown.add(key);
    hidden.push(a);
  };
  for (const a of parsed?.bcc ?? []) add(a);
  for (const rcpt of envelope.rcptTo) add({ name: '', address: rcpt });
  return hidden;
}

/**
 * A decoded header can hold a NUL (`=?utf-8?q?a=00b?=`). SQLite's LIKE reads a text only up to
 * one, so `subject:` and address filters would not see past it while the waiters' matcher
 * (search-match.ts) would, and the two must agree. The list fields get U+FFFD in its place, as an
 * HTML parser shows it; the raw message and the header list keep the bytes as received.
 */
function nulFree(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

export function nulFreeAddress(address: Address): Address {
  return address.name.includes('\0') || address.address.includes('\0') ? { name: nulFree(address.name), address: nulFree(address.address) } : address;
}

export function summarize(message: NewMessage): MessageSummary {
  const parsed = message.parsed.ok ? message.parsed.message : null;
  // Without a parse, the envelope sender is the best "from" there is.
  const from = parsed ? parsed.from : message.envelope.mailFrom ? { name: '', address: message.envelope.mailFrom } : null;
  return {
    id: message.id,
    mailbox: message.mailbox,
    receivedAt: new Date(message.receivedAt).toISOString(),
    from: from && nulFreeAddress(from),
    to: parsed ? parsed.to.map(nulFreeAddress) : [],
    cc: parsed ? parsed.cc.map(nulFreeAddress) : [],
    bcc: hiddenRecipients(parsed, message.envelope).map(nulFreeAddress),
    subject: nulFree(parsed?.subject ?? ''),
    snippet: nulFree(parsed?.snippet ?? ''),
    size: message.spooled?.size ?? message.raw.length,
    hasAttachments: parsed ? parsed.attachments.some((a) => !a.inline) : false,
    read: message.initialFlags?.read ?? false,
    messageId: parsed?.messageId == null ? null : nulFree(parsed.messageId),
    // A message is stored untagged; tags come later, through the API.
    tags: [],
  };
}

/** "Name <address>" lines, lower-cased: what `to:`/`from:` filters match against as substrings. */
export function addressSearchText(list: readonly Address[]): string {
  return list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ').toLowerCase();
}
