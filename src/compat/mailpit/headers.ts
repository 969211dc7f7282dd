/**
 * A message's header block as Mailpit's /headers answers it: Go's net/mail reading, i.e. names in
 * canonical form ("Message-Id", "X-Mailer"), values unfolded but not decoded, every occurrence kept
 * in order, keys sorted. Read from the raw bytes (Kotak stores headers decoded). Pure.
 */

/** A header block larger than this is not a header block a client wants back as JSON. */
const MAX_HEADER_BYTES = 1024 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Go's textproto.CanonicalMIMEHeaderKey: each dash-separated word capitalised; names it cannot read stay as they are. */
export function canonicalHeaderName(name: string): string {
  if (!TOKEN.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** Where the header block ends: the first empty line (or the end of a message that is all headers). */
function headerBlockEnd(raw: Buffer): number {
  const limit = Math.min(raw.length, MAX_HEADER_BYTES);
  const crlf = raw.indexOf('\r\n\r\n');
  const lf = raw.indexOf('\n\n');
  const ends = [crlf, lf].filter((i) => i >= 0 && i < limit);
  return ends.length ? Math.min(...ends) : limit;
}

export function headersFromRaw(raw: Buffer): Record<string, string[]> {
  // latin1 keeps every byte as one character, so 8-bit header bytes survive to the UTF-8 decode below.
  const block = raw.subarray(0, headerBlockEnd(raw)).toString('latin1');
  const headers = new Map<string, string[]>();
  // A line starting with whitespace continues the previous one (RFC 5322 2.2.3).
  for (const line of block.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = canonicalHeaderName(line.slice(0, colon).trim());
    // Go joins a folded value's lines with one space, whatever whitespace surrounded the fold.
    const value = Buffer.from(line.slice(colon + 1).replace(/[ \t]*\r?\n[ \t]+/g, ' ').trim(), 'latin1').toString('utf8');
    const values = headers.get(name);
    if (values) values.push(value);
    else headers.set(name, [value]);
  }
  // fromEntries defines own properties, so even a header named __proto__ is kept as one.
  return Object.fromEntries([...headers.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
