/**
 * The top-level header fields of a raw message, unfolded, in order, as the deliverability rules
 * read them. Only the header section is decoded (as UTF-8, which internationalized addresses
 * use; a stray byte becomes U+FFFD), so a large body costs nothing here.
 */
export interface HeaderField {
  /** Lower-cased. */
  readonly name: string;
  /** Unfolded (CRLF + WSP → WSP) and trimmed. */
  readonly value: string;
}

/** The header section ends at the first empty line (CRLF CRLF, or bare LF LF as some senders write). */
function headerSectionEnd(raw: Buffer): number {
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return raw.length;
  if (crlf === -1) return lf;
  if (lf === -1) return crlf;
  return Math.min(crlf, lf);
}

/** null when the header section is longer than `maxBytes`. */
export function readHeaderFields(raw: Buffer, maxBytes = Infinity): HeaderField[] | null {
  const end = headerSectionEnd(raw);
  if (end > maxBytes) return null;
  const section = raw.subarray(0, end).toString('utf8');
  const fields: HeaderField[] = [];
  for (const line of section.replace(/\r?\n(?=[ \t])/g, '').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    // A line without a colon (or starting with one) is not a field; receivers skip it too.
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return fields;
}

export function fieldsNamed(fields: readonly HeaderField[], name: string): HeaderField[] {
  return fields.filter((f) => f.name === name);
}
