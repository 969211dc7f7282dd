/**
 * The fields of a header section, read from the raw bytes on demand (nothing is kept per field,
 * so a header of a million lines costs a pass, not a million objects). A field is a line
 * "Name: value" and the folded lines after it (starting with a blank); lines that are neither (no
 * colon, a name with blanks or 8-bit bytes, a "From " mbox line) belong to the header but to no
 * field. Names are compared as bytes, so fields nobody asked for cost no string. Header lines are
 * short: a byte loop beats a native search per line here. Pure.
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

/** Field names looked for (lower-case), matched against raw bytes without building strings. */
export class FieldNames {
  readonly #byLength = new Map<number, string[]>();
  readonly size: number;

  constructor(names: Iterable<string>) {
    const unique = new Set([...names].map((name) => name.toLowerCase()));
    for (const name of unique) {
      const list = this.#byLength.get(name.length) ?? [];
      list.push(name);
      this.#byLength.set(name.length, list);
    }
    this.size = unique.size;
  }

  /** The wanted name raw[start, end) is (ASCII case-insensitively), or null. */
  match(raw: Buffer, start: number, end: number): string | null {
    const candidates = this.#byLength.get(end - start);
    if (!candidates) return null;
    outer: for (const name of candidates) {
      for (let i = 0; i < name.length; i++) {
        let byte = raw[start + i]!;
        if (byte >= 0x41 && byte <= 0x5a) byte |= 0x20;
        if (byte !== name.charCodeAt(i)) continue outer;
      }
      return name;
    }
    return null;
  }
}

/** Called per field: name bytes [nameStart, nameEnd), the field [start, end), its value from valueStart. Return true to stop. */
type FieldVisitor = (nameStart: number, nameEnd: number, start: number, valueStart: number, end: number) => boolean | void;

/** The end of a valid field name before `colon` (blanks before the colon tolerated), or -1. */
function nameEnd(raw: Buffer, start: number, colon: number): number {
  let end = colon;
  while (end > start && (raw[end - 1] === SPACE || raw[end - 1] === TAB)) end--;
  if (end === start) return -1;
  for (let i = start; i < end; i++) {
    const byte = raw[i]!;
    if (byte < 0x21 || byte > 0x7e) return -1;
  }
  return end;
}

/** Every field of the header section [start, end), in order. */
export function scanFields(raw: Buffer, start: number, end: number, visit: FieldVisitor): void {
  let pos = start;
  let fieldStart = -1;
  let fieldNameStart = 0;
  let fieldNameEnd = 0;
  let valueStart = 0;
  while (pos < end) {
    const first = raw[pos];
    let i = pos;
    let colon = -1;
    while (i < end && raw[i] !== LF) {
      if (colon < 0 && raw[i] === COLON) colon = i;
      i++;
    }
    const next = i < end ? i + 1 : end;
    if (first === SPACE || first === TAB) {
      pos = next; // a folded line: part of the current field, if any
      continue;
    }
    if (fieldStart >= 0 && visit(fieldNameStart, fieldNameEnd, fieldStart, valueStart, pos)) return;
    fieldStart = -1;
    if (colon >= 0) {
      // A UTF-8 byte order mark some Windows tools put before the first field is no part of its name.
      const nameStart = pos === 0 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : pos;
      const found = nameEnd(raw, nameStart, colon);
      if (found >= 0) {
        fieldStart = pos;
        fieldNameStart = nameStart;
        fieldNameEnd = found;
        valueStart = colon + 1;
      }
    }
    pos = next;
  }
  if (fieldStart >= 0) visit(fieldNameStart, fieldNameEnd, fieldStart, valueStart, end);
}

/** Every field of the header section [start, end) whose name is among `names` (all of them when null), in order. */
export function headerFields(raw: Buffer, start: number, end: number, names: FieldNames | null): HeaderField[] {
  const found: HeaderField[] = [];
  scanFields(raw, start, end, (nameStart, nameEndAt, fieldStart, valueStart, fieldEnd) => {
    const name = names ? names.match(raw, nameStart, nameEndAt) : raw.toString('latin1', nameStart, nameEndAt).toLowerCase();
    if (name !== null) found.push({ name, start: fieldStart, valueStart, end: fieldEnd });
  });
  return found;
}

/** The first field of each wanted name, as its unfolded value. */
export function firstFieldValues(raw: Buffer, start: number, end: number, names: FieldNames): Map<string, string> {
  const found = new Map<string, string>();
  scanFields(raw, start, end, (nameStart, nameEndAt, _fieldStart, valueStart, fieldEnd) => {
    const name = names.match(raw, nameStart, nameEndAt);
    if (name !== null && !found.has(name)) found.set(name, unfoldedValue(raw, valueStart, fieldEnd));
    return found.size === names.size;
  });
  return found;
}

/**
 * A field's value as a binary string (one character per byte, so 8-bit bytes survive): folding
 * line breaks removed (RFC 5322 2.2.3), the final line break and surrounding blanks trimmed.
 */
export function unfoldedValue(raw: Buffer, valueStart: number, end: number): string {
  return raw
    .toString('latin1', valueStart, end)
    .replace(/\r?\n|\r/g, '')
    .replace(/^[ \t]+|[ \t]+$/g, '');
}

/** Where the line starting at `start` ends: its content end (before CR LF / LF) and the next line's start. */
export function lineAt(raw: Buffer, start: number): { contentEnd: number; next: number } {
  let i = start;
  while (i < raw.length && raw[i] !== LF) i++;
  if (i === raw.length) return { contentEnd: i, next: i };
  return { contentEnd: i > start && raw[i - 1] === CR ? i - 1 : i, next: i + 1 };
}
