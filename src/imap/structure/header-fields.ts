/**
 * The fields of a header section, read from the raw bytes on demand (nothing is kept per field,
 * so a header of a million lines costs one pass, not a million objects). A field is a line
 * "Name: value" and the folded lines after it (starting with a blank); lines that are neither (no
 * colon, a name with blanks, a "From " mbox line) belong to the header but to no field. Pure.
 */

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const TAB = 0x09;

export interface HeaderField {
  /** The name, lower-case. */
  readonly name: string;
  /** First byte of the field's first line. */
  readonly start: number;
  /** First byte after the colon. */
  readonly valueStart: number;
  /** After the line break of the field's last line (or the section's end). */
  readonly end: number;
}

/** A field name: printable US-ASCII except the colon (RFC 5322 2.2), blanks before the colon tolerated. */
function fieldName(raw: Buffer, start: number, colon: number): string | null {
  let end = colon;
  while (end > start && (raw[end - 1] === SPACE || raw[end - 1] === TAB)) end--;
  if (end === start) return null;
  for (let i = start; i < end; i++) {
    const byte = raw[i]!;
    if (byte < 0x21 || byte > 0x7e) return null;
  }
  return raw.toString('latin1', start, end).toLowerCase();
}

/** Every field of the header section [start, end), in order. */
export function* headerFields(raw: Buffer, start: number, end: number): Generator<HeaderField> {
  let pos = start;
  let current: { name: string; start: number; valueStart: number } | null = null;
  while (pos < end) {
    const lf = raw.indexOf(LF, pos);
    const next = lf < 0 || lf >= end ? end : lf + 1;
    const first = raw[pos];
    if (first === SPACE || first === TAB) {
      pos = next; // a folded line: part of the current field, if any
      continue;
    }
    if (current) yield { ...current, end: pos };
    current = null;
    const lineEnd = lf < 0 || lf >= end ? end : lf;
    const colon = raw.indexOf(COLON, pos);
    if (colon >= 0 && colon < lineEnd) {
      const name = fieldName(raw, pos, colon);
      if (name !== null) current = { name, start: pos, valueStart: colon + 1 };
    }
    pos = next;
  }
  if (current) yield { ...current, end };
}

/** The first field of each wanted name (lower-case), as its unfolded value. */
export function firstFieldValues(raw: Buffer, start: number, end: number, names: ReadonlySet<string>): Map<string, string> {
  const found = new Map<string, string>();
  for (const field of headerFields(raw, start, end)) {
    if (names.has(field.name) && !found.has(field.name)) {
      found.set(field.name, unfoldedValue(raw, field));
      if (found.size === names.size) break;
    }
  }
  return found;
}

/**
 * A field's value as a binary string (one character per byte, so 8-bit bytes survive): folding
 * line breaks removed (RFC 5322 2.2.3), the final line break and surrounding blanks trimmed.
 */
export function unfoldedValue(raw: Buffer, field: HeaderField): string {
  return raw
    .toString('latin1', field.valueStart, field.end)
    .replace(/\r?\n|\r/g, '')
    .replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Where a line break ends in raw[at…], or -1 when none starts at `at`. */
export function lineBreakEnd(raw: Buffer, at: number): number {
  if (raw[at] === LF) return at + 1;
  if (raw[at] === CR && raw[at + 1] === LF) return at + 2;
  return -1;
}
