/**
 * BODYSTRUCTURE and BODY (RFC 3501 7.4.2) of a MIME tree. Type, subtype and transfer encoding
 * are upper-cased (as RFC 3501's examples and Cyrus do); parameters (names and values),
 * Content-ID, Content-Description, Content-Location and Content-Language are as sent. Size is the
 * octets of the body as stored; lines are the body's text lines (line feeds, plus one for a last
 * line without one). A multipart with no parts (none between its delimiters, or no boundary)
 * reports one empty text/plain part, as Dovecot does, since the grammar needs at least one.
 * Pure.
 */
import type { ImapValue } from '../wire/values.js';
import type { Parameter } from './content-fields.js';
import { parseStructuredValue } from './content-fields.js';
import { envelopeOf } from './envelope.js';
import { FieldNames, firstFieldValues } from './header-fields.js';
import type { MimeEntity } from './mime-tree.js';
import { NIL, listValue, nstringValue, numberValue, stringValue } from './values.js';

const LF = 0x0a;
const EXTENSION_FIELDS = new FieldNames(['content-id', 'content-description', 'content-md5', 'content-disposition', 'content-language', 'content-location']);

/** Text lines of raw[start, end). */
export function lineCount(raw: Buffer, start: number, end: number): number {
  let lines = 0;
  let at = raw.indexOf(LF, start);
  while (at >= 0 && at < end) {
    lines++;
    at = raw.indexOf(LF, at + 1);
  }
  return end > start && raw[end - 1] !== LF ? lines + 1 : lines;
}

function parametersValue(params: readonly Parameter[]): ImapValue {
  if (params.length === 0) return NIL;
  return listValue(params.flatMap(([name, value]) => [stringValue(name), stringValue(value)]));
}

function dispositionValue(text: string | undefined): ImapValue {
  if (text === undefined) return NIL;
  const parsed = parseStructuredValue(text);
  if (parsed.value === '') return NIL;
  return listValue([stringValue(parsed.value.toUpperCase()), parametersValue(parsed.params)]);
}

/** Content-Language: one tag as a string, several as a list (RFC 3501 body-fld-lang). */
function languageValue(text: string | undefined): ImapValue {
  if (text === undefined) return NIL;
  const tags = text
    .replace(/\([^)]*\)/g, '')
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag !== '');
  if (tags.length === 0) return NIL;
  return tags.length === 1 ? stringValue(tags[0]!) : listValue(tags.map(stringValue));
}

function extensionFields(raw: Buffer, entity: MimeEntity): Map<string, string> {
  return firstFieldValues(raw, entity.headerStart, entity.headerEnd, EXTENSION_FIELDS);
}

const EMPTY_TEXT_PART: readonly ImapValue[] = [
  stringValue('TEXT'),
  stringValue('PLAIN'),
  listValue([stringValue('CHARSET'), stringValue('US-ASCII')]),
  NIL,
  NIL,
  stringValue('7BIT'),
  numberValue(0),
  numberValue(0),
];

function isMessageType(entity: MimeEntity): boolean {
  return entity.contentType.type === 'message' && (entity.contentType.subtype === 'rfc822' || entity.contentType.subtype === 'global');
}

export function bodyStructureOf(raw: Buffer, entity: MimeEntity, extensible: boolean): ImapValue {
  const fields = extensionFields(raw, entity);
  const text = (name: string): ImapValue => nstringValue(fields.get(name) ?? null);
  const { contentType } = entity;
  const tail = (): ImapValue[] => [dispositionValue(fields.get('content-disposition')), languageValue(fields.get('content-language')), text('content-location')];

  if (contentType.type === 'multipart') {
    const children =
      entity.children.length > 0
        ? entity.children.map((child) => bodyStructureOf(raw, child, extensible))
        : [listValue(extensible ? [...EMPTY_TEXT_PART, NIL, NIL, NIL, NIL] : EMPTY_TEXT_PART)];
    const items = [...children, stringValue(contentType.subtype.toUpperCase())];
    if (extensible) items.push(parametersValue(contentType.params), ...tail());
    return listValue(items);
  }

  const items: ImapValue[] = [
    stringValue(contentType.type.toUpperCase()),
    stringValue(contentType.subtype.toUpperCase()),
    parametersValue(contentType.params),
    text('content-id'),
    text('content-description'),
    stringValue((entity.encoding || '7bit').toUpperCase()),
    numberValue(entity.bodyEnd - entity.bodyStart),
  ];
  if (entity.message) {
    items.push(envelopeOf(raw, entity.message), bodyStructureOf(raw, entity.message, extensible), numberValue(lineCount(raw, entity.bodyStart, entity.bodyEnd)));
  } else if (isMessageType(entity)) {
    // An attached message not read as one (a transfer encoding RFC 2046 5.2.1 forbids, or past the
    // nesting limits): the grammar still wants an envelope and a body, so empty ones.
    const empty = listValue(extensible ? [...EMPTY_TEXT_PART, NIL, NIL, NIL, NIL] : EMPTY_TEXT_PART);
    items.push(listValue(Array.from({ length: 10 }, () => NIL)), empty, numberValue(lineCount(raw, entity.bodyStart, entity.bodyEnd)));
  } else if (contentType.type === 'text') {
    items.push(numberValue(lineCount(raw, entity.bodyStart, entity.bodyEnd)));
  }
  if (extensible) items.push(text('content-md5'), ...tail());
  return listValue(items);
}
