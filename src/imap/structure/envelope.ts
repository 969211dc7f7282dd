/**
 * ENVELOPE (RFC 3501 7.4.2) of a message: date, subject, from, sender, reply-to, to, cc, bcc,
 * in-reply-to, message-id, each from the first field of that name, its value unfolded and
 * trimmed but otherwise as written (encoded-words and 8-bit bytes included); NIL when absent.
 * Sender and Reply-To default to From when absent or empty. Pure.
 */
import type { ImapValue } from '../wire/values.js';
import { type EnvelopeAddress, parseAddressList } from './address-list.js';
import { FieldNames, firstFieldValues } from './header-fields.js';
import type { MimeEntity } from './mime-tree.js';
import { NIL, listValue, nstringValue } from './values.js';

const ENVELOPE_FIELDS = new FieldNames(['date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id']);

function addressValue(address: EnvelopeAddress): ImapValue {
  return listValue([nstringValue(address.name), nstringValue(address.adl), nstringValue(address.mailbox), nstringValue(address.host)]);
}

function addressListValue(text: string | undefined): ImapValue {
  if (text === undefined) return NIL;
  const addresses = parseAddressList(text);
  return addresses.length === 0 ? NIL : listValue(addresses.map(addressValue));
}

/** The ENVELOPE of the message whose header is `message`'s (the root, or an attached message). */
export function envelopeOf(raw: Buffer, message: MimeEntity): ImapValue {
  const fields = firstFieldValues(raw, message.headerStart, message.headerEnd, ENVELOPE_FIELDS);
  const text = (name: string): ImapValue => {
    const value = fields.get(name);
    return value === undefined ? NIL : nstringValue(value);
  };
  const from = addressListValue(fields.get('from'));
  const orFrom = (value: ImapValue): ImapValue => (value.kind === 'atom' ? from : value);
  return listValue([
    text('date'),
    text('subject'),
    from,
    orFrom(addressListValue(fields.get('sender'))),
    orFrom(addressListValue(fields.get('reply-to'))),
    addressListValue(fields.get('to')),
    addressListValue(fields.get('cc')),
    addressListValue(fields.get('bcc')),
    text('in-reply-to'),
    text('message-id'),
  ]);
}
