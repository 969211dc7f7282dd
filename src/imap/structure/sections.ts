/**
 * BODY[section] (RFC 3501 6.4.5): which entity a part number names and which bytes of it a
 * section is, as exact slices of the raw message. Pure.
 */
import { FieldNames, scanFields } from './header-fields.js';
import type { MimeEntity } from './mime-tree.js';

export interface SectionSpec {
  /** Part numbers, e.g. [1, 2] for BODY[1.2...]; [] for the top level. */
  readonly part: readonly number[];
  /** null: the whole part (BODY[] or BODY[1.2]). */
  readonly text: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME' | null;
  /** Field names for HEADER.FIELDS / HEADER.FIELDS.NOT, as the client gave them. */
  readonly fields?: readonly string[];
}

/** The part a part number leads to (in the tree), and whether it is a message (the root, or the part [] names). */
export interface ResolvedPart {
  readonly entity: MimeEntity;
  /** True only for the message itself (part []); a numbered part is a body part. */
  readonly isMessage: boolean;
}

/**
 * Part numbers walk multiparts by position; a message/rfc822 part's numbers continue in the
 * message it carries (its parts, or, when that message is not multipart, 1 for its body); a
 * message that is not multipart has exactly one part, 1, itself.
 */
export function resolvePart(root: MimeEntity, part: readonly number[]): ResolvedPart | null {
  let entity = root;
  let isMessage = true;
  for (const number of part) {
    if (!Number.isInteger(number) || number < 1) return null;
    if (!isMessage && entity.message) {
      entity = entity.message; // a message/rfc822 part: its numbers are the encapsulated message's
      isMessage = true;
    }
    if (entity.contentType.type === 'multipart' && (entity.children.length > 0 || !isMessage)) {
      const child = entity.children[number - 1];
      if (!child) return null;
      entity = child;
    } else if (isMessage && number === 1) {
      // The one part of a message that is not multipart: its body (BODY[1]), the entity itself.
    } else {
      return null;
    }
    isMessage = false;
  }
  return { entity, isMessage };
}

/** The message whose HEADER/TEXT a section names: the root, or the encapsulated message of a message/rfc822 part. */
function messageOf(resolved: ResolvedPart): MimeEntity | null {
  if (resolved.isMessage) return resolved.entity;
  return resolved.entity.message;
}

const CRLF = Buffer.from('\r\n');

/** The empty line that ends a header: as the message has it, or CRLF when it has none. */
function emptyLineOf(raw: Buffer, message: MimeEntity): Buffer {
  return message.bodyStart > message.headerEnd ? raw.subarray(message.headerEnd, message.bodyStart) : CRLF;
}

function headerFieldsSection(raw: Buffer, message: MimeEntity, names: readonly string[], keep: boolean): Buffer {
  const wanted = new FieldNames(names);
  const chunks: Buffer[] = [];
  scanFields(raw, message.headerStart, message.headerEnd, (nameStart, nameEnd, start, _valueStart, end) => {
    if ((wanted.match(raw, nameStart, nameEnd) !== null) !== keep) return;
    chunks.push(raw.subarray(start, end));
    // The last field of a header cut short by the end of the part has no line break of its own.
    if (raw[end - 1] !== 0x0a) chunks.push(CRLF);
  });
  chunks.push(emptyLineOf(raw, message));
  return Buffer.concat(chunks);
}

/** The octets of a section (before any <partial>), or null when the part does not exist or the section does not apply to it. */
export function sectionBytes(raw: Buffer, root: MimeEntity, spec: SectionSpec): Buffer | null {
  const resolved = resolvePart(root, spec.part);
  if (!resolved) return null;
  const { entity } = resolved;
  switch (spec.text) {
    case null:
      return resolved.isMessage ? raw : raw.subarray(entity.bodyStart, entity.bodyEnd);
    case 'MIME':
      // The part's own MIME header; for part [] (where RFC 3501 does not allow MIME) the message header.
      return raw.subarray(entity.headerStart, entity.bodyStart);
    default: {
      const message = messageOf(resolved);
      if (!message) return null; // HEADER/TEXT of a part that carries no message
      if (spec.text === 'HEADER') return raw.subarray(message.headerStart, message.bodyStart);
      if (spec.text === 'TEXT') return raw.subarray(message.bodyStart, message.bodyEnd);
      return headerFieldsSection(raw, message, spec.fields ?? [], spec.text === 'HEADER.FIELDS');
    }
  }
}
