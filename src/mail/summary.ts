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

export function summarize(message: NewMessage): MessageSummary {
  const parsed = message.parsed.ok ? message.parsed.message : null;
  return {
    id: message.id,
    mailbox: message.mailbox,
    receivedAt: new Date(message.receivedAt).toISOString(),
    // Without a parse, the envelope sender is the best "from" there is.
    from: parsed ? parsed.from : message.envelope.mailFrom ? { name: '', address: message.envelope.mailFrom } : null,
    to: parsed ? parsed.to : [],
    cc: parsed ? parsed.cc : [],
    bcc: hiddenRecipients(parsed, message.envelope),
    subject: parsed?.subject ?? '',
    snippet: parsed?.snippet ?? '',
    size: message.raw.length,
    hasAttachments: parsed ? parsed.attachments.some((a) => !a.inline) : false,
    read: false,
    messageId: parsed?.messageId ?? null,
  };
}

/** "Name <address>" lines, lower-cased: what `to:`/`from:` filters match against as substrings. */
export function addressSearchText(list: readonly Address[]): string {
  return list.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(', ').toLowerCase();
}
