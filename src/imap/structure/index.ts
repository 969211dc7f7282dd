/**
 * The structure of a stored message for IMAP FETCH (issue 21): ENVELOPE, BODYSTRUCTURE/BODY,
 * BODY[section] and BINARY[part], all read from the raw bytes (mime-tree.ts keeps byte offsets,
 * so sections are exact slices of what was stored). Pure functions, no I/O; the protocol slice
 * calls them and encodes the values.
 */
import type { ImapValue } from '../wire/values.js';
import { bodyStructureOf } from './body-structure.js';
import { envelopeOf } from './envelope.js';
import { type MimeEntity, parseMimeTree } from './mime-tree.js';
import { type SectionSpec, resolvePart, sectionBytes } from './sections.js';
import { decodeTransfer } from './transfer-decoding.js';

export type { SectionSpec } from './sections.js';

export interface MessageStructure {
  /** ENVELOPE as a list value (NIL = atom 'NIL', numbers = atoms, strings = string values). */
  envelope(): ImapValue;
  /** BODYSTRUCTURE (extensible = true) or BODY (false), as a list value. */
  bodyStructure(extensible: boolean): ImapValue;
  /** The octets of a section (RFC 3501 6.4.5) before any <partial>; null when the part does not exist. */
  section(spec: SectionSpec): Buffer | null;
  /** BINARY[part] (RFC 3516): the part's content with its transfer encoding undone; null when the part does not exist; throws ImapStructureError('UNKNOWN-CTE') for an encoding it cannot undo. */
  binary(part: readonly number[]): Buffer | null;
}

/** A part whose transfer encoding BINARY cannot undo (RFC 3516 4.3: the UNKNOWN-CTE response code). */
export class ImapStructureError extends Error {
  readonly code: 'UNKNOWN-CTE';

  constructor(code: 'UNKNOWN-CTE', message: string) {
    super(message);
    this.name = 'ImapStructureError';
    this.code = code;
  }
}

class ParsedStructure implements MessageStructure {
  readonly #raw: Buffer;
  readonly #root: MimeEntity;
  #envelope: ImapValue | null = null;
  readonly #structures = new Map<boolean, ImapValue>();

  constructor(raw: Buffer) {
    this.#raw = raw;
    this.#root = parseMimeTree(raw);
  }

  envelope(): ImapValue {
    this.#envelope ??= envelopeOf(this.#raw, this.#root);
    return this.#envelope;
  }

  bodyStructure(extensible: boolean): ImapValue {
    let value = this.#structures.get(extensible);
    if (!value) {
      value = bodyStructureOf(this.#raw, this.#root, extensible);
      this.#structures.set(extensible, value);
    }
    return value;
  }

  section(spec: SectionSpec): Buffer | null {
    return sectionBytes(this.#raw, this.#root, spec);
  }

  binary(part: readonly number[]): Buffer | null {
    const resolved = resolvePart(this.#root, part);
    if (!resolved) return null;
    const { entity } = resolved;
    const body = this.#raw.subarray(entity.bodyStart, entity.bodyEnd);
    // A multipart or an attached message has no encoding of its own to undo (RFC 2045 6.4).
    const decoded = entity.contentType.type === 'multipart' || entity.message ? { ok: true as const, bytes: body } : decodeTransfer(entity.encoding, body);
    if (!decoded.ok) throw new ImapStructureError('UNKNOWN-CTE', `cannot decode the transfer encoding "${entity.encoding}"`);
    // BINARY[] is the whole message, its body decoded.
    return resolved.isMessage ? Buffer.concat([this.#raw.subarray(entity.headerStart, entity.bodyStart), decoded.bytes]) : decoded.bytes;
  }
}

/** Parses once; every call after reads the tree. Never throws on malformed mail (best effort, as every IMAP server must). */
export function parseMessageStructure(raw: Buffer): MessageStructure {
  return new ParsedStructure(raw);
}
