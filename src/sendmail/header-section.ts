/**
 * Where the header fields of a raw message are, as byte ranges, so that fields can be read
 * (for -t) and removed (Bcc) while every other byte stays exactly as it was. Pure.
 *
 * The header section ends at the first empty line, or, as in Postfix, at the first line that is
 * neither a field ("Name:") nor the continuation of one (starting with a space or tab): that line
 * begins the body. A leading mbox "From " line is not a header; it is skipped, as Postfix's
 * sendmail does.
 */

export interface HeaderField {
  /** As written, without trailing spaces. */
  readonly name: string;
  /** Offsets in the message: from the name to after the line break of its last line. */
  readonly start: number;
  readonly end: number;
  /** Unfolded (RFC 5322 2.2.3), decoded as UTF-8 (RFC 6532), trimmed. */
  readonly value: string;
}

export interface HeaderSection {
  /** Length of a leading mbox "From " line (with its line break), 0 when there is none. */
  readonly mboxFromLine: number;
  readonly fields: readonly HeaderField[];
  /** Where the body starts: after the empty line, or at the first line that is not a header. */
  readonly bodyStart: number;
  /** Whether an empty line separates the fields from the body. */
  readonly hasSeparator: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
/** RFC 5322 ftext (printable ASCII but ":"), optionally followed by obsolete spaces before the colon. */
const FIELD_NAME = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/;
const MBOX_FROM = Buffer.from('From ');
const utf8 = new TextDecoder('utf-8');

export function readHeaderSection(message: Buffer): HeaderSection {
  const mboxFromLine = message.subarray(0, MBOX_FROM.length).equals(MBOX_FROM) ? lineEnd(message, 0) : 0;
  const fields: HeaderField[] = [];
  let current: { name: string; start: number } | null = null;
  let pos = mboxFromLine;
  let bodyStart = message.length;
  let hasSeparator = false;

  const close = (end: number): void => {
    if (!current) return;
    fields.push({ name: current.name, start: current.start, end, value: fieldValue(message, current.start, end) });
    current = null;
  };

  while (pos < message.length) {
    const end = lineEnd(message, pos);
    const first = message[pos];
    if (first === LF || (first === CR && message[pos + 1] === LF)) {
      close(pos);
      bodyStart = end;
      hasSeparator = true;
      break;
    }
    if ((first === SP || first === TAB) && current) {
      pos = end;
      continue;
    }
    // Field names are short; looking at the first 100 bytes is enough to recognise one.
    const name = FIELD_NAME.exec(message.toString('latin1', pos, Math.min(end, pos + 100)))?.[1];
    close(pos);
    if (name === undefined) {
      bodyStart = pos;
      break;
    }
    current = { name, start: pos };
    pos = end;
  }
  close(Math.min(pos, message.length));
  return { mboxFromLine, fields, bodyStart: Math.min(bodyStart, message.length), hasSeparator };
}

/** The message without the given fields (and without a leading mbox "From " line), other bytes untouched. */
export function removeFields(message: Buffer, section: HeaderSection, remove: readonly HeaderField[]): Buffer {
  if (remove.length === 0 && section.mboxFromLine === 0) return message;
  const parts: Buffer[] = [];
  let from = section.mboxFromLine;
  for (const field of [...remove].sort((a, b) => a.start - b.start)) {
    parts.push(message.subarray(from, field.start));
    from = field.end;
  }
  parts.push(message.subarray(from));
  return Buffer.concat(parts);
}

export function fieldsNamed(section: HeaderSection, ...names: string[]): HeaderField[] {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  return section.fields.filter((f) => wanted.has(f.name.toLowerCase()));
}

/** The offset just after the line break of the line starting at `pos` (or the message end). */
function lineEnd(message: Buffer, pos: number): number {
  const lf = message.indexOf(LF, pos);
  return lf === -1 ? message.length : lf + 1;
}

function fieldValue(message: Buffer, start: number, end: number): string {
  const text = utf8.decode(message.subarray(start, end));
  return text
    .slice(text.indexOf(':') + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .trim();
}
