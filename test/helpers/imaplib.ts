/** Python's imaplib driven by a test (a python3 child running test/helpers/imaplib-session.py). */
import { fileURLToPath } from 'node:url';
import { runClient } from './imap-kotak.js';

const SCRIPT = fileURLToPath(new URL('imaplib-session.py', import.meta.url));

/** What imaplib returned, decoded: bytes as Buffers, tuples as arrays. */
export type PyValue = Buffer | string | number | boolean | null | PyValue[];

function decode(value: unknown): PyValue {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === 'object' && 'b64' in value) return Buffer.from(String((value as { b64: string }).b64), 'base64');
  return value as PyValue;
}

async function runPython(request: object): Promise<{ results: unknown[]; error?: string }> {
  const { code, stdout, stderr } = await runClient('python3', [SCRIPT], { input: JSON.stringify(request) });
  if (code !== 0) throw new Error(`python3 exited with ${code}: ${stderr}`);
  return JSON.parse(stdout.toString('utf8')) as { results: unknown[]; error?: string };
}

/**
 * Runs imaplib calls in one session (`['select', 'INBOX']`, `['uid', 'SEARCH', 'ALL']`); resolves
 * with each call's `[typ, data]`. A call that raised fails the promise with imaplib's error.
 */
export async function imaplib(port: number, calls: readonly (readonly (string | number | boolean | null)[])[]): Promise<PyValue[][]> {
  const { results, error } = await runPython({ port, calls });
  if (error) throw new Error(`imaplib: ${error} (after ${results.length} calls)`);
  return results.map((r) => decode(r) as PyValue[]);
}

/** A MIME part tree as Python's email package sees it (imaplib-session.py's describe()). */
export interface PyPart {
  readonly type: string;
  /** Leaf parts: the body's octets as transferred; null where Python keeps no count (see describe()). */
  readonly size?: number | null;
  /** A multipart without any part: in IMAP, one holding an empty text/plain part. */
  readonly empty?: true;
  readonly parts?: readonly PyPart[];
  /** message/rfc822: the message it carries. */
  readonly message?: PyPart;
}

/** Fetches these INBOX messages' RFC822 over imaplib and parses each with Python's email package. */
export async function pythonStructures(port: number, numbers: readonly number[]): Promise<{ raw: Buffer; tree: PyPart }[]> {
  const { results, error } = await runPython({ port, structure: numbers });
  if (error) throw new Error(`imaplib: ${error}`);
  return (results as { raw: unknown; tree: PyPart }[]).map((r) => ({ raw: decode(r.raw) as Buffer, tree: r.tree }));
}

/** The text of imaplib's data items (a SEARCH answer, a FLAGS line). */
export function text(data: PyValue): string {
  return Buffer.isBuffer(data) ? data.toString('latin1') : String(data);
}

/** The literals of a FETCH answer (RFC822, BODY[]): imaplib's `(header, literal)` pairs, in order. */
export function literals(data: PyValue): { header: string; literal: Buffer }[] {
  if (!Array.isArray(data)) return [];
  return data
    .filter((item): item is PyValue[] => Array.isArray(item) && item.length === 2)
    .map(([header, literal]) => ({ header: text(header!), literal: literal as Buffer }));
}
