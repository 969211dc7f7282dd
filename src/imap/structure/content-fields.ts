/**
 * Content-Type and Content-Disposition values (RFC 2045 5.1, RFC 2183) read for BODYSTRUCTURE:
 * the value and its parameters as the message sent them. Parameter names keep their case and
 * their RFC 2231 marks (`filename*0*`), values are unquoted but not decoded: IMAP reports the
 * parameters as sent and the client decodes them. Comments are dropped. Never throws. Pure.
 */

export type Parameter = readonly [name: string, value: string];

export interface StructuredValue {
  /** The value before the first ";", comments and blanks removed (`text/plain`, `attachment`). */
  readonly value: string;
  readonly params: readonly Parameter[];
}

/** `text` from `at` up to the next ";" outside comments, with the comments (nested, with escapes) removed. */
function readUntilSemicolon(text: string, at: number): { text: string; next: number } {
  let out = '';
  let depth = 0;
  let i = at;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (depth > 0) {
      if (ch === '\\') i++;
      else if (ch === '(') depth++;
      else if (ch === ')') depth--;
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ';') break;
    else out += ch;
  }
  return { text: out, next: i + 1 };
}

/** A quoted string starting at text[at] === '"': its content unescaped, and where it ends (an unterminated one runs to the end). */
function readQuoted(text: string, at: number): { value: string; next: number } {
  let value = '';
  let i = at + 1;
  for (; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) value += text[++i];
    else if (ch === '"') return { value, next: i + 1 };
    else value += ch;
  }
  return { value, next: i };
}

function isBlank(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

/** Skips blanks and comments. */
function skipBlanks(text: string, at: number): number {
  let i = at;
  for (;;) {
    while (isBlank(text[i])) i++;
    if (text[i] !== '(') return i;
    let depth = 0;
    for (; i < text.length; i++) {
      const ch = text[i];
      if (ch === '\\') i++;
      else if (ch === '(') depth++;
      else if (ch === ')' && --depth === 0) {
        i++;
        break;
      }
    }
  }
}

export function parseStructuredValue(text: string): StructuredValue {
  const head = readUntilSemicolon(text, 0);
  const value = head.text.replace(/[ \t\r\n]+/g, '');
  const params: Parameter[] = [];
  let i = head.next;
  while (i < text.length) {
    i = skipBlanks(text, i);
    let eq = i;
    while (eq < text.length && text[eq] !== '=' && text[eq] !== ';') eq++;
    if (text[eq] !== '=') {
      i = eq + 1; // no "=" before the next ";": not a parameter
      continue;
    }
    const name = text.slice(i, eq).replace(/\([^)]*\)/g, '').trim();
    i = skipBlanks(text, eq + 1);
    let paramValue: string;
    if (text[i] === '"') {
      const quoted = readQuoted(text, i);
      paramValue = quoted.value;
      const rest = readUntilSemicolon(text, quoted.next);
      i = rest.next;
    } else {
      const rest = readUntilSemicolon(text, i);
      paramValue = rest.text.trim();
      i = rest.next;
    }
    if (name !== '') params.push([name, paramValue]);
  }
  return { value, params };
}

/** The first parameter of that name (compared case-insensitively), or null. */
export function parameterValue(params: readonly Parameter[], name: string): string | null {
  const wanted = name.toLowerCase();
  for (const [key, value] of params) if (key.toLowerCase() === wanted) return value;
  return null;
}
