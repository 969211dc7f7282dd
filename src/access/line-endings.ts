/**
 * The form mail-client protocols hand a message out in: the stored bytes with every line ending
 * in CRLF. RFC 1939 (and IMAP's RFC822.SIZE) count sizes in this form, so the size and the
 * bytes come from the same rule. Stored raw bytes are kept as received, bare LFs included.
 */

const LF = 0x0a;
const CR = 0x0d;

/** Octets of `crlfForm(raw)`, without building it. */
export function crlfLength(raw: Buffer): number {
  let length = raw.length;
  for (let at = raw.indexOf(LF); at >= 0; at = raw.indexOf(LF, at + 1)) {
    if (at === 0 || raw[at - 1] !== CR) length += 1;
  }
  if (raw.length > 0 && raw[raw.length - 1] !== LF) length += 2;
  return length;
}

/**
 * Bare LF → CRLF, and a final CRLF when the last line lacks one (so a protocol's terminator
 * starts on a line of its own). Returns `raw` itself when it is already in that form.
 */
export function crlfForm(raw: Buffer): Buffer {
  if (raw.length === 0) return raw;
  const length = crlfLength(raw);
  if (length === raw.length) return raw;
  const out = Buffer.allocUnsafe(length);
  let written = 0;
  let from = 0;
  for (let at = raw.indexOf(LF); at >= 0; at = raw.indexOf(LF, at + 1)) {
    if (at > 0 && raw[at - 1] === CR) continue;
    written += raw.copy(out, written, from, at);
    out[written++] = CR;
    out[written++] = LF;
    from = at + 1;
  }
  written += raw.copy(out, written, from);
  if (written < length) {
    out[written++] = CR;
    out[written++] = LF;
  }
  return out;
}
