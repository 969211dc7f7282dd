/**
 * The MIME tree as the IMAP structure module reads it, in the shape test/helpers/python-mime-tree.py
 * prints Python's: containers with children, leaves with their BINARY (the public API, by IMAP part
 * number). For the corpus test that compares the two.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ImapStructureError, type MessageStructure } from '../../src/imap/structure/index.js';
import type { MimeEntity } from '../../src/imap/structure/mime-tree.js';

export interface TreeNode {
  readonly type: string;
  readonly cte: string;
  readonly children?: readonly TreeNode[];
  /** BINARY of the leaf, base64; null when it cannot be decoded (UNKNOWN-CTE). */
  readonly payload?: string | null;
  readonly opaque?: boolean;
  /** Octets of the body as stored (ours only). */
  readonly size?: number;
  /** The root's Message-ID and addresses (Python's only). */
  readonly envelope?: { readonly messageId: string | null; readonly from: string[] | null; readonly to: string[] | null; readonly cc: string[] | null };
}

/** The tree of `entity`, whose IMAP part number is `part` (the message itself: []). */
export function structureTree(structure: MessageStructure, entity: MimeEntity, part: readonly number[]): TreeNode {
  const type = `${entity.contentType.type}/${entity.contentType.subtype}`;
  const size = entity.bodyEnd - entity.bodyStart;
  if (entity.message) {
    // The attached message's own numbering continues the part's.
    return { type, cte: entity.encoding, size, children: [messageTree(structure, entity.message, part)] };
  }
  if (entity.contentType.type === 'multipart' && entity.children.length > 0) {
    return { type, cte: entity.encoding, size, children: entity.children.map((child, index) => structureTree(structure, child, [...part, index + 1])) };
  }
  let payload: string | null;
  try {
    payload = structure.binary(part.length === 0 ? [1] : part)?.toString('base64') ?? null;
  } catch (err) {
    if (!(err instanceof ImapStructureError)) throw err;
    payload = null;
  }
  return { type, cte: entity.encoding, size, payload };
}

/** A message (the root, or one carried by a message/rfc822 part numbered `part`). */
function messageTree(structure: MessageStructure, message: MimeEntity, part: readonly number[]): TreeNode {
  if (message.contentType.type === 'multipart' && message.children.length > 0) return structureTree(structure, message, part);
  // A message that is not multipart: its one part is numbered 1 below it.
  return structureTree(structure, message, [...part, 1]);
}

export function rootTree(structure: MessageStructure, root: MimeEntity): TreeNode {
  return messageTree(structure, root, []);
}

const PYTHON_SCRIPT = fileURLToPath(new URL('./python-mime-tree.py', import.meta.url));

/** Python's trees of the files, in order. */
export function pythonTrees(files: readonly string[]): TreeNode[] {
  const out = execFileSync('python3', [PYTHON_SCRIPT, ...files], { maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(out.toString('utf8')) as TreeNode[];
}

/** Where the two trees differ: one line per difference, with the node's path. */
export function treeDifferences(ours: TreeNode, python: TreeNode, path = 'root'): string[] {
  if (ours.type !== python.type) return [`${path}: type ${ours.type} vs Python's ${python.type}`];
  if (python.opaque) return [];
  const ourKids = ours.children;
  const theirs = python.children;
  if (ourKids || theirs) {
    if (!ourKids || !theirs) {
      // Python keeps an empty multipart as a container with no parts; so do we (a leaf here).
      if ((ourKids?.length ?? 0) === 0 && (theirs?.length ?? 0) === 0) return [];
      return [`${path}: ${ourKids ? 'container' : 'leaf'} vs Python's ${theirs ? 'container' : 'leaf'}`];
    }
    if (ourKids.length !== theirs.length) return [`${path}: ${ourKids.length} parts vs Python's ${theirs.length}`];
    return ourKids.flatMap((child, index) => treeDifferences(child, theirs[index]!, `${path}.${index + 1}`));
  }
  if (ours.payload === null || python.payload === null || python.payload === undefined) return [];
  return ours.payload === python.payload ? [] : [`${path}: decoded body differs (${ours.cte || '7bit'})`];
}
