/**
 * The message HTML sanitiser (src/mail/html-view.ts) against a table of hostile payloads
 * (test/helpers/hostile-html.ts): the output, read again by a second parser, must hold nothing
 * that can run script, navigate the frame, submit, or load a document; CSS escapes and comments
 * are undone before judging; and sanitising the output again changes nothing (no markup that a
 * re-parse turns into something else).
 */
import { isTag, isText } from 'domhandler';
import type { ChildNode, Element } from 'domhandler';
import { parseDocument } from 'htmlparser2';
import { describe, expect, it } from 'vitest';
import { renderHtmlView } from '../../src/mail/html-view.js';
import { HOSTILE_HTML } from '../helpers/hostile-html.js';

const ACTIVE_ELEMENTS = new Set([
  'script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'param', 'base', 'form', 'input', 'button',
  'select', 'textarea', 'keygen', 'isindex', 'portal', 'fencedframe', 'template', 'noscript', 'noembed', 'noframes',
  'xmp', 'plaintext', 'foreignobject', 'animate', 'animatemotion', 'animatetransform', 'animatecolor', 'set', 'math',
  'bgsound', 'handler', 'listener',
]);
const URL_ATTRIBUTES = new Set([
  'href', 'xlink:href', 'src', 'action', 'formaction', 'background', 'poster', 'data', 'lowsrc', 'dynsrc', 'codebase',
  'cite', 'longdesc', 'usemap', 'code', 'archive', 'classid', 'manifest', 'icon', 'profile',
]);
const DROPPED_ATTRIBUTES = new Set(['srcdoc', 'formaction', 'action', 'ping', 'http-equiv', 'nonce']);
const SAFE_DATA_IMAGE = /^data:image\/(png|gif|jpe?g|webp|bmp)[;,]/;

/** What a browser would make of a URL's scheme: controls and spaces gone, lower case. */
function unsafeUrl(value: string): boolean {
  const clean = value.replace(/[\u0000-\u0020\u007f-\u009f]/g, '').toLowerCase();
  if (/^(javascript|vbscript|livescript|mocha|file):/.test(clean)) return true;
  return clean.startsWith('data:') && !SAFE_DATA_IMAGE.test(clean);
}

/**
 * CSS with every escape decoded and comments removed (as old IE did inside expressions), so the
 * check is stricter than any CSS parser: obfuscated names and schemes show plainly.
 */
function normaliseCss(css: string): string {
  return css
    .replace(/\/\*[\s\S]*?(\*\/|$)/g, '')
    .replace(/\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?/g, (_, hex: string) => String.fromCodePoint(Math.min(parseInt(hex, 16) || 0xfffd, 0x10ffff)))
    .replace(/\\(.)/g, '$1')
    .toLowerCase();
}

function unsafeCss(css: string): boolean {
  const text = normaliseCss(css);
  return /(javascript|vbscript|livescript)\s*:|expression\s*\(|behavior\s*:|-moz-binding|data:text\/html|data:image\/svg/.test(text);
}

const textOf = (el: Element): string => el.children.map((c) => (isText(c) ? c.data : '')).join('');

/** Everything in `html` that could act, as a second parser reads it. */
function dangers(html: string): string[] {
  const found: string[] = [];
  const stack: ChildNode[] = [...parseDocument(html, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true }).children];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (!isTag(node)) continue;
    const name = node.name;
    if (ACTIVE_ELEMENTS.has(name)) found.push(`<${name}>`);
    if (name === 'meta' && !('name' in node.attribs) && !(node.attribs.charset === 'utf-8')) found.push(`<meta ${Object.keys(node.attribs).join(' ')}>`);
    if (name === 'link' && node.attribs.rel !== 'stylesheet') found.push(`<link rel=${node.attribs.rel}>`);
    if (name === 'style' && (textOf(node).includes('<') || unsafeCss(textOf(node)))) found.push(`<style>${textOf(node)}</style>`);
    for (const [attribute, value] of Object.entries(node.attribs)) {
      if (attribute.startsWith('on') || DROPPED_ATTRIBUTES.has(attribute)) found.push(`${name}[${attribute}]`);
      if (URL_ATTRIBUTES.has(attribute) && unsafeUrl(value)) found.push(`${name}[${attribute}=${value}]`);
      if ((attribute === 'srcset' || attribute === 'imagesrcset') && value.split(',').some((candidate) => unsafeUrl(candidate.trim().split(/\s+/)[0] ?? ''))) {
        found.push(`${name}[${attribute}=${value}]`);
      }
      if (attribute === 'style' && unsafeCss(value)) found.push(`${name}[style=${value}]`);
      if (attribute === 'target' && value !== '_blank') found.push(`${name}[target=${value}]`);
    }
    stack.push(...node.children);
  }
  return found;
}

const view = (html: string, allowRemote: boolean) => renderHtmlView(html, { cidUrls: new Map(), allowRemote }).html;

describe('message HTML sanitiser: hostile payloads', () => {
  it('the checker itself sees the payloads as dangerous before sanitising', () => {
    // Guards the table: a payload the checker cannot see as dangerous proves little below. These
    // few are dangerous only to a parser other than htmlparser2 (old IE, or markup hidden in what
    // htmlparser2 reads as a comment or text), or not at all in today's browsers; the browser test
    // (test/browser/html-view-hostile.test.ts) renders them for real.
    const invisibleToThisParser = new Set([
      'script in title (raw text)', 'conditional comment', 'comment ended by --!>', 'processing instruction import',
      '<style type=text/javascript>', 'attribute name with a quote', 'textarea',
    ]);
    const unseen = HOSTILE_HTML.filter(([name, payload]) => dangers(payload).length === 0 && !invisibleToThisParser.has(name));
    expect(unseen.map(([name]) => name)).toEqual([]);
  });

  for (const [name, payload] of HOSTILE_HTML) {
    it(`neutralises ${name}`, () => {
      for (const allowRemote of [false, true]) {
        const out = view(payload, allowRemote);
        expect({ payload, allowRemote, found: dangers(out) }).toEqual({ payload, allowRemote, found: [] });
        // Stable: what we emit means the same to the next parser, so sanitising again changes nothing.
        expect(view(out, allowRemote)).toBe(out);
      }
    });
  }

  it('keeps the harmless parts of a hostile message readable', () => {
    const out = view('<p>Hello <b>there</b></p><img src=x onerror=alert(1)><a href="javascript:alert(1)">click</a><a href="https://example.test/ok">ok</a>', false);
    expect(out).toContain('<p>Hello <b>there</b></p>');
    expect(out).toContain('<a>click</a>');
    expect(out).toContain('<a href="https://example.test/ok" target="_blank" rel="noopener noreferrer">ok</a>');
  });
});
