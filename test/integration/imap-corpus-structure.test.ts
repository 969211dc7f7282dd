/**
 * Every message of the shared corpus (real mail from several parsers' test suites, broken and
 * hostile ones included) goes in over SMTP; its BODYSTRUCTURE, fetched with imapflow, parses, and
 * Python's `email` package, reading the same message fetched over imaplib (RFC822, byte for byte
 * the stored message), agrees with it on the part tree (each part's type and nesting, a
 * message/rfc822 part's inner message) and on each leaf part's size in octets (issue 21).
 * Where IMAP's rules and Python's reading differ by design (a message/* type other than rfc822, a
 * multipart without parts, a missing close delimiter, a byte-order mark before the header), the
 * Python side says what IMAP must show instead: see describe() in test/helpers/imaplib-session.py.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ImapFlow, type MessageStructureObject } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawOf, withImapKotak, type ImapKotak } from '../helpers/imap-kotak.js';
import { pythonStructures, type PyPart } from '../helpers/imaplib.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url);
const files = readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort();

/**
 * imapflow's reading of a BODYSTRUCTURE, in the shape imaplib-session.py describes a part, where
 * Python's description is the guide for the cases it explains there: an `empty` multipart is one
 * holding a single empty text/plain part; a null size is one Python cannot tell (left unchecked).
 */
function shape(node: MessageStructureObject, python: PyPart | undefined): PyPart {
  if (node.type.startsWith('multipart/')) {
    const children = node.childNodes ?? [];
    if (python?.empty && children.length === 1 && children[0]!.type === 'text/plain' && children[0]!.size === 0) return { type: node.type, empty: true };
    return { type: node.type, parts: children.map((child, i) => shape(child, python?.parts?.[i])) };
  }
  if ((node.type === 'message/rfc822' || node.type === 'message/global') && node.childNodes?.length) {
    return { type: node.type, message: shape(node.childNodes[0]!, python?.message) };
  }
  return { type: node.type, size: python?.size === null ? null : (node.size ?? 0) };
}

describe('IMAP BODYSTRUCTURE of the corpus, imapflow against Python email', () => {
  let kotak: ImapKotak;
  /** Per file: its sequence number in INBOX (sent in this order), Kotak's id, both readings. */
  const seen = new Map<string, { id: string; imapflow: MessageStructureObject | undefined; python: PyPart; pythonRaw: Buffer }>();

  beforeAll(async () => {
    kotak = await withImapKotak({ parseWorkers: 2 });
    const ids: string[] = [];
    for (const file of files) {
      const reply = await sendRaw(kotak.smtpPort, readFileSync(new URL(file, CORPUS)));
      if (reply.code !== 250) throw new Error(`${file}: ${reply.text}`);
      ids.push(queuedId(reply));
    }
    const client = new ImapFlow({ host: '127.0.0.1', port: kotak.imapPort, secure: false, auth: { user: 'tester', pass: 'secret' }, logger: false });
    await client.connect();
    const structures = new Map<number, MessageStructureObject | undefined>();
    try {
      await client.mailboxOpen('INBOX', { readOnly: true });
      for await (const message of client.fetch('1:*', { bodyStructure: true })) structures.set(message.seq, message.bodyStructure);
    } finally {
      await client.logout();
    }
    const python = await pythonStructures(kotak.imapPort, files.map((_, i) => i + 1));
    files.forEach((file, i) => seen.set(file, { id: ids[i]!, imapflow: structures.get(i + 1), python: python[i]!.tree, pythonRaw: python[i]!.raw }));
  });
  afterAll(() => kotak.stop());

  it('has the whole corpus in INBOX', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(seen.size).toBe(files.length);
  });

  it.each(files)('%s: imapflow parses BODYSTRUCTURE and Python agrees on the tree and sizes', async (file) => {
    const { id, imapflow, python, pythonRaw } = seen.get(file)!;
    expect(pythonRaw.equals(await rawOf(kotak, id))).toBe(true);
    expect(imapflow).toBeDefined();
    expect(shape(imapflow!, python)).toEqual(python);
  });
});
