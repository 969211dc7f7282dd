/**
 * Every corpus message (test/fixtures/corpus) through the IMAP structure module, checked against
 * two independent readers: Python's email package (the part tree, and each leaf's decoded body
 * equal to our BINARY of that part) and imapflow (our ENVELOPE and BODYSTRUCTURE, serialised by a
 * minimal encoder, read by imapflow's own stream framing, parser and tools, giving the same tree,
 * sizes and addresses).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseMessageStructure } from '../../src/imap/structure/index.js';
import { parseMimeTree } from '../../src/imap/structure/mime-tree.js';
import { encodeImapValue } from '../helpers/imap-value-text.js';
import { type ImapflowBodyStructure, imapflowReads } from '../helpers/imapflow-values.js';
import { type TreeNode, pythonTrees, rootTree, treeDifferences } from '../helpers/structure-tree.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url);
const FILES = readdirSync(CORPUS)
  .filter((name) => name.endsWith('.eml'))
  .sort();

/**
 * Where Python reads a message differently, and why ours is what an IMAP server should say.
 * Any other difference fails the test.
 */
const KNOWN_DIFFERENCES: Record<string, readonly string[]> = {
  // A multipart/alternative with no parts (its boundary never appears): Python keeps the
  // preamble's last line break as the body; by RFC 2046 5.1.1 that line break belongs to the
  // outer delimiter that follows, so the body is empty.
  'mimekit--empty-multipart.eml': ['root.1: decoded body differs (7bit)'],
  // The message starts with a UTF-8 byte order mark: Python takes that first line for the start
  // of the body (no headers, text/plain). We skip the BOM before the first field name and read
  // the header, with its multipart/report Content-Type.
  'mimekit--feedback-report.eml': ["root: type multipart/report vs Python's text/plain"],
  // A folded header line that lost its leading blank: Python ends the header there (text/plain);
  // we skip the line and read on to the Content-Type, as a mail client would show the message.
  'mimekit--issue358.eml': ["root: type multipart/alternative vs Python's text/plain"],
  // No closing delimiter: the last part runs to the end of the message, all its bytes kept;
  // Python drops the last line break (as if a delimiter followed).
  'mimekit--multipart-no-end-boundary.eml': ['root.2: decoded body differs (7bit)'],
};

/** Where Python's address parser reads an address header differently. */
const KNOWN_ENVELOPE_DIFFERENCES: Record<string, string> = {
  // "To: <Undisclosed-Recipient:@mailman.enron.com;>": Python splits it at the ":" into two
  // addresses; we read the one address in the angle brackets (Undisclosed-Recipient@mailman.enron.com).
  'rubymail--missing_body.eml': 'one address in angle brackets',
};

function loadCorpus(): { name: string; raw: Buffer }[] {
  return FILES.map((name) => ({ name, raw: readFileSync(new URL(name, CORPUS)) }));
}

/** imapflow's tree in the shape of ours (type, size, children; the empty part it is given for an empty multipart removed). */
function imapflowTree(node: ImapflowBodyStructure): { type: string; size: number | undefined; children?: unknown[] } {
  const children = node.childNodes ?? [];
  const placeholder = node.type.startsWith('multipart/') && children.length === 1 && children[0]!.type === 'text/plain' && children[0]!.size === 0 && !children[0]!.encoding?.match(/[^7bit]/);
  const out: { type: string; size: number | undefined; children?: unknown[] } = { type: node.type, size: node.size };
  if (children.length > 0 && !placeholder) out.children = children.map(imapflowTree);
  return out;
}

/** Ours in the same shape (multiparts have no size in BODYSTRUCTURE). */
function comparableTree(node: TreeNode): { type: string; size: number | undefined; children?: unknown[] } {
  const out: { type: string; size: number | undefined; children?: unknown[] } = { type: node.type, size: node.type.startsWith('multipart/') ? undefined : node.size };
  if (node.children && node.children.length > 0) out.children = node.children.map(comparableTree);
  return out;
}

describe('IMAP structure of the corpus', () => {
  const corpus = loadCorpus();
  let python: TreeNode[] = [];
  beforeAll(() => {
    python = pythonTrees(FILES.map((name) => new URL(name, CORPUS).pathname));
  });

  it('has the part tree and decoded leaf bodies Python reads, but for the known differences', () => {
    const differences: Record<string, string[]> = {};
    corpus.forEach(({ name, raw }, index) => {
      const ours = rootTree(parseMessageStructure(raw), parseMimeTree(raw));
      const found = treeDifferences(ours, python[index]!);
      if (found.length > 0) differences[name] = found;
    });
    expect(differences).toEqual(KNOWN_DIFFERENCES);
  });

  it('gives ENVELOPE, BODYSTRUCTURE and BODY values imapflow reads back as the same tree, sizes and addresses', async () => {
    const mismatches: Record<string, unknown> = {};
    for (const [index, { name, raw }] of corpus.entries()) {
      const structure = parseMessageStructure(raw);
      const read = await imapflowReads(encodeImapValue(structure.envelope()), encodeImapValue(structure.bodyStructure(true)));
      const tree = imapflowTree(read.bodyStructure);
      const ours = comparableTree(rootTree(structure, parseMimeTree(raw)));
      if (JSON.stringify(tree) !== JSON.stringify(ours)) mismatches[`${name} tree`] = { imapflow: tree, ours };
      // BODY (no extension data) reads back as the same tree too.
      const body = imapflowTree((await imapflowReads(encodeImapValue(structure.envelope()), encodeImapValue(structure.bodyStructure(false)))).bodyStructure);
      if (JSON.stringify(body) !== JSON.stringify(ours)) mismatches[`${name} BODY tree`] = { imapflow: body, ours };
      if (KNOWN_DIFFERENCES[name]?.some((line) => line.startsWith('root: type'))) continue; // Python saw no header there
      const expected = python[index]!.envelope!;
      // Where Python's address parser gave up (null), that list is not compared. An address
      // without a domain is mailbox@MISSING_DOMAIN in ENVELOPE (address-list.ts), the bare local part to Python.
      const addresses = (list: readonly { address?: string }[] | undefined, theirs: string[] | null): string[] | null =>
        theirs === null ? null : (list ?? []).map((a) => (a.address ?? '').replace(/@MISSING_DOMAIN$/, '')).filter((a) => a !== '');
      const envelope = {
        messageId: read.envelope.messageId ?? null,
        from: addresses(read.envelope.from, expected.from),
        to: addresses(read.envelope.to, expected.to),
        cc: addresses(read.envelope.cc, expected.cc),
      };
      if (JSON.stringify(envelope) !== JSON.stringify(expected)) mismatches[`${name} envelope`] = { imapflow: envelope, python: expected };
    }
    expect(Object.keys(mismatches)).toEqual(Object.keys(KNOWN_ENVELOPE_DIFFERENCES).map((name) => `${name} envelope`));
  });
});
