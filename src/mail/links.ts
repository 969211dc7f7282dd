/**
 * Every link in a message, with its anchor text: what a test clicks ("the confirmation link") and
 * what the inbox's Links tab lists. HTML anchors come first, in document order, then bare URLs
 * in the text part that the HTML did not already have.
 */
import { Parser } from 'htmlparser2';
import { useLinearStacks } from './linear-parser.js';

export interface MessageLink {
  readonly url: string;
  /** The anchor's text (or its image's alt text); '' for a bare URL in the text part. */
  readonly text: string;
}

/** A link list is for reading; a message with more is a generated catalogue. */
const MAX_LINKS = 1000;
/** Anchor text beyond this is not a label any more. */
const MAX_TEXT = 500;

// A URL in text ends before whitespace, quotes and angle brackets, and not on trailing punctuation
// (a sentence's full stop or a closing parenthesis that has no opening one inside the URL).
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'`]+/gi;

function trimTrailing(url: string): string {
  let end = url.length;
  while (end > 0) {
    const c = url[end - 1]!;
    if ('.,;:!?\'"'.includes(c)) end--;
    else if (c === ')' && (url.slice(0, end).match(/\(/g)?.length ?? 0) < (url.slice(0, end).match(/\)/g)?.length ?? 0)) end--;
    else if (c === ']' && !url.slice(0, end - 1).includes('[')) end--;
    else break;
  }
  return url.slice(0, end);
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT);
}

export function htmlLinks(html: string): MessageLink[] {
  const links: MessageLink[] = [];
  // Anchors can nest in broken HTML; each open one collects the text inside it.
  const open: { href: string; text: string; alt: string }[] = [];
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'a' || name === 'area') {
          const href = attributes.href?.trim();
          if (href !== undefined && href !== '') {
            if (name === 'area') links.push({ url: href, text: collapse(attributes.alt ?? attributes.title ?? '') });
            else open.push({ href, text: '', alt: attributes.title ?? '' });
          }
        } else if (name === 'img' && open.length > 0 && attributes.alt) {
          for (const anchor of open) anchor.alt ||= attributes.alt;
        }
      },
      ontext(text) {
        for (const anchor of open) if (anchor.text.length < MAX_TEXT * 2) anchor.text += text;
      },
      onclosetag(name) {
        if (name !== 'a') return;
        const anchor = open.pop();
        if (anchor) links.push({ url: anchor.href, text: collapse(anchor.text) || collapse(anchor.alt) });
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  useLinearStacks(parser);
  parser.end(html);
  for (const anchor of open.reverse()) links.push({ url: anchor.href, text: collapse(anchor.text) || collapse(anchor.alt) });
  return links;
}

export function textLinks(text: string): MessageLink[] {
  return [...text.matchAll(TEXT_URL)].map((m) => ({ url: trimTrailing(m[0]), text: '' }));
}

export function extractLinks(html: string | null, text: string | null): MessageLink[] {
  const result: MessageLink[] = [];
  const seen = new Set<string>();
  const seenUrls = new Set<string>();
  const add = (link: MessageLink) => {
    const key = `${link.url}\u0000${link.text}`;
    if (seen.has(key) || result.length >= MAX_LINKS) return;
    seen.add(key);
    seenUrls.add(link.url);
    result.push(link);
  };
  if (html) for (const link of htmlLinks(html)) add(link);
  // The text part usually repeats the HTML's links; a bare URL already listed with its anchor text adds nothing.
  if (text) for (const link of textLinks(text)) if (!seenUrls.has(link.url)) add(link);
  return result;
}

/** What a URL of a message is to a reader: followed on click, or loaded to show the message. */
export type LinkKind = 'link' | 'image' | 'stylesheet';

export interface LinkTarget {
  readonly url: string;
  readonly kind: LinkKind;
}

/** The HTML is fed to the parser in pieces this big, so a time limit is checked between them. */
const SCAN_CHUNK = 16 * 1024;

/**
 * Every URL a mail client would follow or load, in document order, repeats included: anchors and
 * image-map areas, images (`<img src>`, the `background` attribute of tables and cells),
 * stylesheets; then the bare URLs of the text part. What the link check tests.
 *
 * htmlparser2 slows down more than linearly with nesting depth (2 MB of unclosed `<div>`s takes
 * minutes), so with `deadline` (a `performance.now()` time) the scan stops there and answers null.
 */
export function linkTargets(html: string | null, text: string | null, deadline = Number.POSITIVE_INFINITY): LinkTarget[] | null {
  const targets: LinkTarget[] = [];
  if (html) {
    const parser = new Parser(
      {
        onopentag(name, attributes) {
          const add = (value: string | undefined, kind: LinkKind) => {
            const url = value?.trim();
            if (url) targets.push({ url, kind });
          };
          if (name === 'a' || name === 'area') add(attributes.href, 'link');
          else if (name === 'img') add(attributes.src, 'image');
          else if (name === 'link' && /(^|\s)stylesheet(\s|$)/i.test(attributes.rel ?? '')) add(attributes.href, 'stylesheet');
          if (attributes.background !== undefined) add(attributes.background, 'image');
        },
      },
      { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
    );
    useLinearStacks(parser);
    for (let at = 0; at < html.length; at += SCAN_CHUNK) {
      if (performance.now() > deadline) return null;
      parser.write(html.slice(at, at + SCAN_CHUNK));
    }
    if (performance.now() > deadline) return null;
    parser.end();
  }
  if (text) for (const link of textLinks(text)) targets.push({ url: link.url, kind: 'link' });
  return targets;
}
