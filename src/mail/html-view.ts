/**
 * An email's HTML body → the document the web inbox shows in its sandboxed iframe.
 *
 * The iframe already runs without scripts under a strict CSP; this is the second wall, and the
 * place where `cid:` references become attachment URLs and remote content is held back until the
 * user asks for it. The output is parsed again by a browser, so it is built to mean the same thing
 * to a browser as it did to us: every text node and attribute value is re-escaped, no comment or
 * directive is copied through, and the only raw-text element kept (`<style>`) never contains `<`.
 */
import render from 'dom-serializer';
import { Element, Text, isTag, isText } from 'domhandler';
import type { ChildNode, ParentNode } from 'domhandler';
import { DomHandler, Parser } from 'htmlparser2';
import { useLinearStacks } from './linear-parser.js';

export interface HtmlViewOptions {
  /** Content-ID (without angle brackets, as stored) → URL to use instead of cid:..., e.g. 'parts/2' */
  readonly cidUrls: ReadonlyMap<string, string>;
  /**
   * When false, remote resources (http:, https:, protocol-relative //) in img/src, srcset,
   * background, poster, link rel=stylesheet, CSS url(...) and @import are removed/neutralised.
   */
  readonly allowRemote: boolean;
}

export interface HtmlView {
  readonly html: string;
  /** How many remote references were removed. */
  readonly remoteBlocked: number;
}

/** dom-serializer recurses about three frames per level; deeper elements are unwrapped. */
const MAX_DEPTH = 512;

const EMPTY_VIEW = '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"></head><body></body></html>';

/** Dropped with everything inside: active content, other documents, form inputs, and SVG that can script or animate links. */
const DROP_ELEMENTS = new Set([
  'script', 'noscript', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'param', 'base',
  'template', 'portal', 'fencedframe', 'math', 'xml', 'noembed', 'noframes', 'input', 'select',
  'textarea', 'keygen', 'isindex', 'datalist', 'bgsound', 'foreignobject', 'animate', 'animatemotion',
  'animatetransform', 'animatecolor', 'set', 'handler', 'listener',
]);

/** Replaced by their children: the element would act (submit, navigate) but its content is the message. */
const UNWRAP_ELEMENTS = new Set(['form', 'button']);

/** Raw-text in browsers; as `pre` their text is escaped like any other. */
const RENAME_TO_PRE = new Set(['xmp', 'listing', 'plaintext']);

const DOCUMENT_WRAPPERS = new Set(['html', 'head', 'body']);
const HEAD_ELEMENTS = new Set(['title', 'style', 'meta', 'link']);

/** Anything else could mean something different to a browser's tokenizer than it did to ours. */
const TAG_NAME = /^[a-z][a-z0-9._:-]*$/;
const ATTRIBUTE_NAME = /^[a-z_][a-z0-9._:-]*$/;

const DROP_ATTRIBUTES = new Set([
  'action', 'formaction', 'formtarget', 'formmethod', 'formenctype', 'srcdoc', 'ping', 'http-equiv',
  'target', 'rel', 'datasrc', 'datafld', 'dataformatas', 'autofocus', 'nonce',
]);

/** URL attributes the browser fetches on its own. */
const RESOURCE_ATTRIBUTES = new Set([
  'src', 'background', 'poster', 'data', 'lowsrc', 'dynsrc', 'codebase', 'classid', 'archive',
  'manifest', 'icon', 'profile',
]);

/** URL attributes that are only followed when the reader clicks. */
const NAVIGATION_ATTRIBUTES = new Set(['cite', 'longdesc', 'usemap', 'itemtype', 'itemid']);

const BLOCKED_SCHEMES = new Set(['javascript', 'vbscript', 'livescript', 'mocha', 'file']);

/** Raster images only: an SVG or HTML data: URL is a document that can carry script. */
const SAFE_DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp|bmp)[;,]/;

/** Browsers drop tabs and newlines anywhere in a URL and spaces/controls at its ends; dropping more only blocks more. */
const URL_NOISE = /[\u0000-\u0020\u007f-\u009f]+/g;

const SCHEME = /^([a-z][a-z0-9+.-]*):/;

/** Protocol-relative, including the backslash forms the URL parser treats as slashes. */
const PROTOCOL_RELATIVE = /^[\\/]{2}/;

interface Context {
  readonly allowRemote: boolean;
  readonly cids: ReadonlyMap<string, string>;
  remoteBlocked: number;
}

export function renderHtmlView(html: string, options: HtmlViewOptions): HtmlView {
  try {
    return renderChecked(typeof html === 'string' ? html : '', options);
  } catch {
    // The caller is an HTTP handler showing one message; an empty page beats a 500 for a bug here.
    return { html: EMPTY_VIEW, remoteBlocked: 0 };
  }
}

function renderChecked(html: string, options: HtmlViewOptions): HtmlView {
  const ctx: Context = { allowRemote: options.allowRemote, cids: normaliseCids(options.cidUrls), remoteBlocked: 0 };
  const root = parse(html);
  sanitizeTree(root, ctx);
  const document = assemble(root.children);
  return { html: `<!DOCTYPE html>${render(document, { encodeEntities: 'utf8' })}`, remoteBlocked: ctx.remoteBlocked };
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parse(html: string): ParentNode {
  const handler = new DomHandler();
  const parser = new Parser(handler, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  useLinearStacks(parser);
  parser.end(html);
  return handler.root;
}


// ---------------------------------------------------------------------------------------------
// Tree

interface Work {
  readonly node: ParentNode;
  readonly depth: number;
  readonly inSvg: boolean;
  /** Only html/head/body elements above: the document's frame, taken apart by `assemble`. */
  readonly inFrame: boolean;
}

/** Explicit work stack: a 20,000-deep message must not need 20,000 stack frames. */
function sanitizeTree(root: ParentNode, ctx: Context): void {
  const work: Work[] = [{ node: root, depth: 0, inSvg: false, inFrame: true }];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    sanitizeChildren(item, ctx, work);
  }
}

function sanitizeChildren(parent: Work, ctx: Context, work: Work[]): void {
  const kept: ChildNode[] = [];
  // Children of unwrapped elements are pushed here so they are judged in the same place.
  const pending = [...parent.node.children].reverse();
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (isText(node)) {
      kept.push(node);
      continue;
    }
    // Comments, CDATA, doctypes, processing instructions: a browser may end a comment where we did not.
    if (!isTag(node)) continue;
    const action = decide(node, parent, ctx);
    if (action === 'drop') continue;
    if (action === 'unwrap') {
      for (let k = node.children.length - 1; k >= 0; k--) pending.push(node.children[k]!);
      continue;
    }
    kept.push(node);
    if (node.name === 'style' || node.name === 'title') {
      node.children = [textOnly(node, ctx)];
      adopt(node, node.children);
      continue;
    }
    work.push({
      node,
      depth: parent.depth + 1,
      inSvg: parent.inSvg || node.name === 'svg',
      inFrame: parent.inFrame && DOCUMENT_WRAPPERS.has(node.name),
    });
  }
  parent.node.children = kept;
  adopt(parent.node, kept);
}

type Action = 'keep' | 'drop' | 'unwrap';

function decide(el: Element, parent: Work, ctx: Context): Action {
  const name = el.name;
  if (DROP_ELEMENTS.has(name)) return 'drop';
  if (parent.depth >= MAX_DEPTH || !TAG_NAME.test(name) || UNWRAP_ELEMENTS.has(name)) return 'unwrap';
  if (DOCUMENT_WRAPPERS.has(name)) {
    if (!parent.inFrame) return 'unwrap';
    el.attribs = name === 'body' ? sanitizeAttributes(el, parent.inSvg, ctx) : pick(el.attribs, name === 'html' ? ['lang', 'dir'] : []);
    return 'keep';
  }
  // Inside SVG a browser parses <style> content as markup, where we (and any HTML sanitiser) read
  // raw text: the classic mutation-XSS gap, and styling inline SVG in an email is rare enough to lose.
  if (name === 'style' && parent.inSvg) return 'drop';
  if (name === 'meta') return keepMeta(el) ? 'keep' : 'drop';
  if (name === 'link') return keepStylesheet(el, ctx) ? 'keep' : 'drop';
  if (RENAME_TO_PRE.has(name)) el.name = 'pre';
  el.attribs = sanitizeAttributes(el, parent.inSvg || name === 'svg', ctx);
  if (name === 'a' || name === 'area') setLinkTarget(el);
  return 'keep';
}

/** `<style>` and `<title>` are raw text to a browser: any element inside them could be re-read as markup. */
function textOnly(el: Element, ctx: Context): Text {
  let text = '';
  for (const child of el.children) if (isText(child)) text += child.data;
  return new Text(el.name === 'style' ? sanitizeCss(text, ctx) : text);
}

function adopt(parent: ParentNode, children: ChildNode[]): void {
  // dom-serializer decides raw vs escaped text from `parent`, so a stale one would be a hole.
  let prev: ChildNode | null = null;
  for (const child of children) {
    child.parent = parent;
    child.prev = prev;
    if (prev) prev.next = child;
    prev = child;
  }
  if (prev) prev.next = null;
}

/**
 * Without `<html>`/`<head>` the browser would infer them; we build them so head content stays in
 * the head and the email's `<body>` attributes (background, margins) survive.
 */
function assemble(top: readonly ChildNode[]): Element {
  const headNodes: ChildNode[] = [
    new Element('meta', { charset: 'utf-8' }),
    // Remote images the reader allowed must not tell senders which sandbox message they came from.
    new Element('meta', { name: 'referrer', content: 'no-referrer' }),
  ];
  const bodyNodes: ChildNode[] = [];
  let htmlAttribs: Record<string, string> | undefined;
  let bodyAttribs: Record<string, string> | undefined;
  const frames: { nodes: readonly ChildNode[]; index: number; inHead: boolean }[] = [{ nodes: top, index: 0, inHead: false }];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    const node = frame.nodes[frame.index++];
    if (node === undefined) {
      frames.pop();
      continue;
    }
    if (isTag(node) && DOCUMENT_WRAPPERS.has(node.name)) {
      if (node.name === 'html') htmlAttribs ??= node.attribs;
      if (node.name === 'body') bodyAttribs ??= node.attribs;
      const inHead = node.name === 'head' ? true : node.name === 'body' ? false : frame.inHead;
      frames.push({ nodes: node.children, index: 0, inHead });
      continue;
    }
    // htmlparser2 does not close an unterminated <head>, so body content can sit inside it.
    const headish = isTag(node) ? HEAD_ELEMENTS.has(node.name) : isText(node) && node.data.trim() === '';
    (frame.inHead && headish ? headNodes : bodyNodes).push(node);
  }
  const head = new Element('head', {}, headNodes);
  const body = new Element('body', bodyAttribs ?? {}, bodyNodes);
  const htmlElement = new Element('html', htmlAttribs ?? {}, [head, body]);
  adopt(head, headNodes);
  adopt(body, bodyNodes);
  adopt(htmlElement, [head, body]);
  return htmlElement;
}

// ---------------------------------------------------------------------------------------------
// Elements and attributes

function keepMeta(el: Element): boolean {
  const attribs = el.attribs;
  // http-equiv can refresh, redirect or set a CSP/cookie; the served document is always UTF-8; our referrer policy wins.
  if ('http-equiv' in attribs || 'charset' in attribs) return false;
  if ((attribs.name ?? '').trim().toLowerCase() === 'referrer') return false;
  el.attribs = pick(attribs, ['name', 'content', 'property', 'itemprop']);
  return true;
}

/** Only stylesheets affect how the message looks; icons, preloads and prefetches only make requests. */
function keepStylesheet(el: Element, ctx: Context): boolean {
  const rel = (el.attribs.rel ?? '').toLowerCase().split(/[\t\n\f\r ]+/);
  if (!rel.includes('stylesheet') || rel.includes('alternate')) return false;
  const href = el.attribs.href === undefined ? null : resourceUrl(el.attribs.href, ctx);
  if (href === null || href === '') return false;
  el.attribs = { ...pick(el.attribs, ['media', 'type']), rel: 'stylesheet', href };
  return true;
}

function sanitizeAttributes(el: Element, inSvg: boolean, ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  const isLink = el.name === 'a' || el.name === 'area';
  for (const [rawName, value] of Object.entries(el.attribs)) {
    const name = rawName.toLowerCase();
    if (!ATTRIBUTE_NAME.test(name) || name.startsWith('on') || DROP_ATTRIBUTES.has(name)) continue;
    let safe: string | null;
    if (name === 'style') safe = sanitizeCss(value, ctx);
    else if (name === 'srcset' || name === 'imagesrcset') safe = sanitizeSrcset(value, ctx);
    else if (name === 'href' || name === 'xlink:href') safe = isLink ? navigationUrl(value, ctx) : resourceUrl(value, ctx);
    else if (RESOURCE_ATTRIBUTES.has(name)) safe = resourceUrl(value, ctx);
    else if (NAVIGATION_ATTRIBUTES.has(name)) safe = navigationUrl(value, ctx);
    // SVG paint and filter attributes take url(...) references, which can point off-site.
    else if (inSvg && /url\s*\(/i.test(value)) safe = sanitizeCss(value, ctx);
    else safe = value;
    if (safe !== null) out[name] = safe;
  }
  return out;
}

/**
 * Links open outside the iframe, without a window.opener or a Referer naming the sandbox. An
 * in-page `#fragment` link stays in the iframe so a message's table of contents still scrolls.
 */
function setLinkTarget(el: Element): void {
  const href = el.attribs.href ?? el.attribs['xlink:href'];
  if (href === undefined || href.replace(URL_NOISE, '').startsWith('#')) return;
  el.attribs.target = '_blank';
  el.attribs.rel = 'noopener noreferrer';
}

function pick(attribs: Record<string, string>, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = attribs[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// URLs

/** For things the browser fetches by itself. Returns the value to keep, or null to drop it. */
function resourceUrl(value: string, ctx: Context): string | null {
  const clean = value.replace(URL_NOISE, '');
  if (clean === '') return null;
  const lower = clean.toLowerCase();
  if (lower.startsWith('cid:')) return lookupCid(clean.slice(4), ctx);
  if (PROTOCOL_RELATIVE.test(clean)) return remote(value, ctx);
  const scheme = SCHEME.exec(lower)?.[1];
  if (scheme === undefined) return value;
  if (scheme === 'http' || scheme === 'https') return remote(value, ctx);
  if (scheme === 'data' && SAFE_DATA_IMAGE.test(lower)) return value;
  // Any other scheme has no business loading inside a message view.
  return null;
}

/** For things followed on click: custom app schemes (deep links) are legitimate test content. */
function navigationUrl(value: string, ctx: Context): string | null {
  const clean = value.replace(URL_NOISE, '');
  const lower = clean.toLowerCase();
  if (lower.startsWith('cid:')) return lookupCid(clean.slice(4), ctx);
  const scheme = SCHEME.exec(lower)?.[1];
  if (scheme === undefined) return value;
  if (BLOCKED_SCHEMES.has(scheme)) return null;
  if (scheme === 'data') return SAFE_DATA_IMAGE.test(lower) ? value : null;
  return value;
}

function remote(value: string, ctx: Context): string | null {
  if (ctx.allowRemote) return value;
  ctx.remoteBlocked++;
  return null;
}

function normaliseCids(cidUrls: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [cid, url] of cidUrls) {
    const key = normaliseCid(cid);
    if (!out.has(key)) out.set(key, url);
  }
  return out;
}

function normaliseCid(cid: string): string {
  return cid.trim().replace(/^<|>$/g, '').toLowerCase();
}

/** Unknown Content-IDs resolve to nothing rather than to a request the CSP would refuse anyway. */
function lookupCid(rest: string, ctx: Context): string | null {
  const raw = normaliseCid(rest);
  const direct = ctx.cids.get(raw);
  if (direct !== undefined) return direct;
  let decoded: string;
  try {
    decoded = normaliseCid(decodeURIComponent(rest));
  } catch {
    return null;
  }
  return ctx.cids.get(decoded) ?? null;
}

/** The spec's srcset candidate split: a URL is a run of non-space, descriptors end at a comma outside parentheses. */
function sanitizeSrcset(value: string, ctx: Context): string | null {
  const candidates: string[] = [];
  const n = value.length;
  let i = 0;
  while (i < n) {
    while (i < n && (isCssSpace(value[i]!) || value[i] === ',')) i++;
    if (i >= n) break;
    const start = i;
    while (i < n && !isCssSpace(value[i]!)) i++;
    let url = value.slice(start, i);
    let descriptors = '';
    if (url.endsWith(',')) {
      url = url.replace(/,+$/, '');
    } else {
      const descriptorStart = i;
      let inParens = false;
      for (; i < n; i++) {
        const c = value[i];
        if (c === '(') inParens = true;
        else if (c === ')') inParens = false;
        else if (c === ',' && !inParens) break;
      }
      descriptors = value.slice(descriptorStart, i).trim();
      i++;
    }
    const safe = resourceUrl(url, ctx);
    if (safe !== null && safe !== '') candidates.push(descriptors === '' ? safe : `${safe} ${descriptors}`);
  }
  return candidates.length > 0 ? candidates.join(', ') : null;
}

// ---------------------------------------------------------------------------------------------
// CSS

/** Functions whose plain string arguments are URLs, as `url()` is. */
const URL_STRING_FUNCTIONS = new Set(['image-set', '-webkit-image-set', 'image', 'src']);

/** Old IE and Firefox ways to run code from CSS. */
const BLOCKED_IDENTS = new Set(['-moz-binding', 'behavior', '-ms-behavior']);
const BLOCKED_FUNCTIONS = new Set(['expression']);
const SCRIPT_URL = /^(javascript|vbscript|livescript|mocha):/;

/**
 * One linear pass over CSS (style attributes and `<style>` text) with just enough of the CSS
 * tokenizer to find what matters: comments, strings, identifiers (escapes decoded, so `u\rl(` is
 * `url(`), `url(...)` and `@import`. Everything else is copied as it was.
 */
function sanitizeCss(css: string, ctx: Context): string {
  const n = css.length;
  let out = '';
  let copied = 0;
  let i = 0;
  const functions: string[] = [];
  let importStart = -1;
  let importBlocked = false;

  const replace = (start: number, end: number, text: string): void => {
    out += css.slice(copied, start) + text;
    copied = end;
    i = end;
  };
  const endImport = (end: number, consumeSemicolon: boolean): void => {
    if (importStart >= 0 && importBlocked) {
      out += css.slice(copied, end);
      out = out.slice(0, importStart);
      copied = consumeSemicolon ? end + 1 : end;
    }
    importStart = -1;
    importBlocked = false;
  };
  const urlValue = (value: string): string | null => {
    const safe = resourceUrl(value, ctx);
    if (safe === null && importStart >= 0) importBlocked = true;
    return safe;
  };

  while (i < n) {
    const c = css[i]!;
    if (c === '/' && css[i + 1] === '*') {
      const close = css.indexOf('*/', i + 2);
      replace(i, close < 0 ? n : close + 2, ' ');
    } else if (c === '"' || c === "'") {
      const str = readString(css, i);
      const top = functions[functions.length - 1];
      const isUrl = (top !== undefined && URL_STRING_FUNCTIONS.has(top)) || (importStart >= 0 && functions.length === 0);
      if (isUrl) replace(i, str.end, cssString(urlValue(str.value) ?? ''));
      // Old engines read `u\72l\28'javascript:…'` as a url(); no modern one does, and no style needs such a string.
      else if (SCRIPT_URL.test(str.value.replace(URL_NOISE, '').toLowerCase())) replace(i, str.end, '""');
      else i = str.end;
    } else if (c === '<' && css.startsWith('<!--', i)) {
      replace(i, i + 4, ' ');
    } else if (c === '-' && css.startsWith('-->', i)) {
      replace(i, i + 3, ' ');
    } else if (c === '@') {
      const ident = readIdent(css, i + 1);
      if (ident.end > i + 1 && ident.value.toLowerCase() === 'import') {
        out += css.slice(copied, i);
        copied = i;
        importStart = out.length;
        importBlocked = false;
      }
      i = Math.max(ident.end, i + 1);
    } else if (startsIdent(css, i)) {
      const ident = readIdent(css, i);
      const name = ident.value.toLowerCase();
      if (css[ident.end] === '(') {
        if (name === 'url') {
          const url = readUrl(css, ident.end + 1);
          if (url.kind === 'function') {
            // url("x" junk): invalid, but keep scanning what follows as function arguments.
            const safe = urlValue(url.value);
            replace(i, url.end, `url(${cssString(safe ?? '')}`);
            functions.push('url');
          } else {
            const safe = url.kind === 'url' ? urlValue(url.value) : null;
            // A url() a browser could not read still must not leave half an @import behind.
            if (url.kind === 'bad' && importStart >= 0) importBlocked = true;
            replace(i, url.end, safe === null || safe === '' ? 'url()' : `url(${cssString(safe)})`);
          }
        } else if (BLOCKED_FUNCTIONS.has(name)) {
          replace(i, ident.end + 1, 'x-removed(');
          functions.push('');
        } else {
          functions.push(name);
          i = ident.end + 1;
        }
      } else if (BLOCKED_IDENTS.has(name) || /[()]/.test(name)) {
        // An escaped parenthesis makes no real identifier: it is only ever a function name in disguise.
        replace(i, ident.end, 'x-removed');
      } else {
        i = ident.end;
      }
    } else if (c === '(') {
      functions.push('');
      i++;
    } else if (c === ')') {
      functions.pop();
      i++;
    } else if (c === ';' && functions.length === 0 && importStart >= 0) {
      endImport(i, true);
      i = Math.max(i + 1, copied);
    } else if (c === '{' || c === '}') {
      if (importStart >= 0) endImport(i, false);
      functions.length = 0;
      i++;
    } else if (c === '\\') {
      i += 2;
    } else {
      i++;
    }
  }
  endImport(n, false);
  out += css.slice(copied, n);
  // No `<` at all: then no `</style>` and no tag, whichever way a browser reads this text.
  return out.replace(/</g, '\\3c ');
}

function isCssSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
}

function isNewline(c: string | undefined): boolean {
  return c === '\n' || c === '\r' || c === '\f';
}

function isIdentChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return (
    (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) ||
    c === '-' || c === '_' || code >= 0x80
  );
}

function startsIdent(css: string, i: number): boolean {
  const c = css[i]!;
  if (c === '\\') return i + 1 < css.length && !isNewline(css[i + 1]);
  if (c === '-') return i + 1 < css.length && (isIdentChar(css[i + 1]!) || css[i + 1] === '\\');
  const code = c.charCodeAt(0);
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || c === '_' || code >= 0x80;
}

function readIdent(css: string, start: number): { value: string; end: number } {
  let value = '';
  let i = start;
  while (i < css.length) {
    const c = css[i]!;
    if (c === '\\') {
      if (i + 1 >= css.length || isNewline(css[i + 1])) break;
      const escape = readEscape(css, i + 1);
      value += escape.value;
      i = escape.end;
    } else if (isIdentChar(c)) {
      value += c;
      i++;
    } else {
      break;
    }
  }
  return { value, end: i };
}

/** `start` is just after the backslash. */
function readEscape(css: string, start: number): { value: string; end: number } {
  const hex = /^[0-9a-fA-F]{1,6}/.exec(css.slice(start, start + 6));
  if (hex === null) return { value: css[start] ?? '', end: start + 1 };
  let end = start + hex[0].length;
  if (css[end] === '\r' && css[end + 1] === '\n') end += 2;
  else if (css[end] !== undefined && isCssSpace(css[end]!)) end++;
  const code = parseInt(hex[0], 16);
  const valid = code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
  return { value: valid ? String.fromCodePoint(code) : '\ufffd', end };
}

/** Ends at the closing quote, or before an unescaped newline (a bad string), or at the end. */
function readString(css: string, start: number): { value: string; end: number } {
  const quote = css[start];
  let value = '';
  let i = start + 1;
  while (i < css.length) {
    const c = css[i]!;
    if (c === quote) return { value, end: i + 1 };
    if (isNewline(c)) return { value, end: i };
    if (c === '\\') {
      if (i + 1 >= css.length) return { value, end: i + 1 };
      if (isNewline(css[i + 1])) {
        i += css[i + 1] === '\r' && css[i + 2] === '\n' ? 3 : 2;
        continue;
      }
      const escape = readEscape(css, i + 1);
      value += escape.value;
      i = escape.end;
      continue;
    }
    value += c;
    i++;
  }
  return { value, end: css.length };
}

type UrlToken =
  | { kind: 'url'; value: string; end: number }
  | { kind: 'bad'; end: number }
  | { kind: 'function'; value: string; end: number };

/** `start` is just after `url(`. */
function readUrl(css: string, start: number): UrlToken {
  let i = start;
  while (i < css.length && isCssSpace(css[i]!)) i++;
  const c = css[i];
  if (c === '"' || c === "'") {
    const str = readString(css, i);
    let j = str.end;
    while (j < css.length && isCssSpace(css[j]!)) j++;
    if (css[j] === ')') return { kind: 'url', value: str.value, end: j + 1 };
    return { kind: 'function', value: str.value, end: str.end };
  }
  let value = '';
  let bad = false;
  while (i < css.length) {
    const ch = css[i]!;
    if (ch === ')') return bad ? { kind: 'bad', end: i + 1 } : { kind: 'url', value, end: i + 1 };
    if (ch === '\\') {
      if (i + 1 < css.length && !isNewline(css[i + 1])) {
        const escape = readEscape(css, i + 1);
        value += escape.value;
        i = escape.end;
        continue;
      }
      bad = true;
      i++;
      continue;
    }
    if (isCssSpace(ch)) {
      // Space is only allowed before the closing parenthesis.
      while (i < css.length && isCssSpace(css[i]!)) i++;
      if (i < css.length && css[i] !== ')') bad = true;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '(' || ch.charCodeAt(0) < 0x20 || ch === '\u007f') bad = true;
    value += ch;
    i++;
  }
  return { kind: 'bad', end: css.length };
}

function cssString(value: string): string {
  return `"${value.replace(/[\\"\u0000-\u001f\u007f<>]/g, (ch) => `\\${ch.charCodeAt(0).toString(16)} `)}"`;
}
