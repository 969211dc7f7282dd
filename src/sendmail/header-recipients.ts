/**
 * -t: the envelope recipients a message names in its headers. Pure.
 *
 * Every To, Cc and Bcc field counts (a message may repeat them). When the message has
 * Resent-To, Resent-Cc or Resent-Bcc fields it is being resent, and, as sendmail and Postfix do,
 * only those name the recipients. Bcc and Resent-Bcc fields are returned for removal: their
 * recipients get the message without seeing the list.
 */
import { parseAddressList } from './addresses.js';
import { fieldsNamed, type HeaderField, type HeaderSection } from './header-section.js';

export interface HeaderRecipients {
  readonly recipients: readonly string[];
  /** The fields that must not reach the recipients. */
  readonly hiddenFields: readonly HeaderField[];
  /** Unusable addresses, e.g. `To: "foo bar"` or `Cc: a@x>`, with the field they are in. */
  readonly malformed: readonly { readonly field: string; readonly text: string }[];
}

export function recipientsFromHeaders(section: HeaderSection, localDomain: string): HeaderRecipients {
  const resent = fieldsNamed(section, 'Resent-To', 'Resent-Cc', 'Resent-Bcc');
  const sources = resent.length > 0 ? resent : fieldsNamed(section, 'To', 'Cc', 'Bcc');
  const recipients: string[] = [];
  const malformed: { field: string; text: string }[] = [];
  for (const field of sources) {
    const list = parseAddressList(field.value, localDomain);
    recipients.push(...list.addresses);
    for (const text of list.malformed) malformed.push({ field: field.name, text });
  }
  return { recipients, hiddenFields: fieldsNamed(section, 'Bcc', 'Resent-Bcc'), malformed };
}
