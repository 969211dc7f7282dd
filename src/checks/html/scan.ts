/**
 * Reads a message's HTML once and records which caniemail features it uses: how often, and where
 * first. HTML through htmlparser2 (fed in slices, yielding to the event loop between them), CSS of
 * `<style>` blocks and `style` attributes through postcss, walked without recursion. Bounded: past
 * a limit it stops with a `check_too_large` error rather than working on.
 */
import { Parser } from 'htmlparser2';
import postcss, { type ChildNode, type Container } from 'postcss';
import { KotakError } from '../../errors.js';
import { useLinearStacks } from '../../mail/linear-parser.js';
import { atRuleSlugs, declarationSlugs, elementSlugs, isScript, SCRIPT_SLUG, selectorSlugs } from './features.js';

export interface HtmlCheckLimits {
  /** Bytes of HTML (UTF-8) checked at most. */
  readonly maxHtmlBytes: number;
  /** Characters of CSS, `<style>` blocks and `style` attributes together. */
  readonly maxCssChars: number;
  /** CSS rules, at-rules, declarations and comments walked, together. */
  readonly maxCssNodes: number;
  /** Characters of one rule's selector list. */
  readonly maxSelectorChars: number;
  /** How deep rules may nest in rules and at-rules. */
  readonly maxCssDepth: number;
  /** Time the whole check may take, in ms (checked between slices of work). */
  readonly timeLimitMs: number;
}

export const DEFAULT_LIMITS: HtmlCheckLimits = {
  maxHtmlBytes: 2 * 1024 * 1024,
  maxCssChars: 1024 * 1024,
  maxCssNodes: 100_000,
  maxSelectorChars: 10_000,
  maxCssDepth: 32,
  timeLimitMs: 8_000,
};

/** The check refused or gave up: the HTML or its CSS is over a limit. */
function tooLarge(reason: string): KotakError {
  return new KotakError('check_too_large', `HTML check: ${reason}`);
}

export interface SourceLocation {
  /** 1-based, in the HTML part. */
  readonly line: number;
  readonly column: number;
  /** Up to 80 characters of the HTML from there. */
  readonly snippet: string;
}

export interface Finding {
  count: number;
  readonly first: SourceLocation;
}

export interface HtmlScan {
  /** Elements, counted as Mailpit counts them (see countsAsNode). */
  readonly nodes: number;
  /** By slug, in the order first seen. */
  readonly findings: ReadonlyMap<string, Finding>;
}

/** What the scanner needs of the data: property names by page, and which pseudo pages exist. */
export interface ScanTables {
  readonly properties: ReadonlyMap<string, string>;
  readonly slugs: ReadonlySet<string>;
}

const HTML_SLICE = 64 * 1024;
const CSS_YIELD_EVERY = 2_000;
const SNIPPET_CHARS = 80;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function scanHtml(html: string, tables: ScanTables, limits: HtmlCheckLimits = DEFAULT_LIMITS, now: () => number = Date.now): Promise<HtmlScan> {
  const bytes = Buffer.byteLength(html, 'utf8');
  if (bytes > limits.maxHtmlBytes) {
    throw tooLarge(`the HTML is ${bytes} bytes; the check reads at most ${limits.maxHtmlBytes}`);
  }
  const deadline = now() + limits.timeLimitMs;
  const checkTime = () => {
    if (now() > deadline) throw tooLarge(`the check took over ${limits.timeLimitMs} ms and was stopped`);
  };

  const lines = lineStarts(html);
  const locate = (offset: number): SourceLocation => {
    const line = lineOf(lines, offset);
    return { line: line + 1, column: offset - lines[line]! + 1, snippet: html.slice(offset, offset + SNIPPET_CHARS).replace(/\s+/g, ' ') };
  };
  const findings = new Map<string, Finding>();
  const found = (slug: string, offset: number) => {
    const finding = findings.get(slug);
    if (finding) finding.count++;
    else findings.set(slug, { count: 1, first: locate(offset) });
  };

  // Mailpit counts `body *` when the HTML has no </body> (a fragment), else every element but html, head and meta.
  const fragment = !/<\/body\s*>/i.test(html);
  let nodes = 0;
  let cssChars = 0;
  let cssNodes = 0;
  /** CSS waiting to be read: parsed between HTML slices, so the parser callbacks stay synchronous. */
  const pendingCss: { css: string; offset: number; inline: boolean }[] = [];
  let style: { offset: number; text: string } | null = null;

  const addCss = (css: string, offset: number, inline: boolean) => {
    cssChars += css.length;
    if (cssChars > limits.maxCssChars) throw tooLarge(`the CSS is over ${limits.maxCssChars} characters; the check reads at most that`);
    pendingCss.push({ css, offset, inline });
  };

  const parser = new Parser(
    {
      onopentag(name, attributes) {
        const offset = parser.startIndex;
        if (countsAsNode(name, fragment)) nodes++;
        for (const slug of elementSlugs(name, attributes)) found(slug, offset);
        if (name === 'script' && isScript(attributes)) found(SCRIPT_SLUG, offset);
        if (name === 'style') style = { offset: parser.endIndex + 1, text: '' };
        if (attributes.style !== undefined && attributes.style.trim() !== '') addCss(attributes.style, offset, true);
      },
      ontext(text) {
        if (style) style.text += text;
      },
      onclosetag(name) {
        if (name === 'style' && style) {
          addCss(style.text, style.offset, false);
          style = null;
        }
      },
      oncomment() {
        found('html-comments', parser.startIndex);
      },
      onprocessinginstruction(_name, data) {
        // caniemail's doctype page is about the HTML5 one; an XHTML or HTML 4 doctype is not it.
        if (/^!doctype\s+html\s*$/i.test(data)) found('html-doctype', parser.startIndex);
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  // Deeply nested or stray tags would otherwise cost O(depth) each (see html-view.ts).
  useLinearStacks(parser);

  const readCss = async () => {
    for (const { css, offset, inline } of pendingCss.splice(0)) {
      cssNodes = await scanCss(css, { tables, limits, cssNodes, checkTime, found: (slug, at) => found(slug, inline ? offset : offset + at) });
    }
  };

  for (let at = 0; at < html.length; at += HTML_SLICE) {
    parser.write(html.slice(at, at + HTML_SLICE));
    await readCss();
    checkTime();
    await yieldToEventLoop();
  }
  parser.end();
  await readCss();
  return { nodes, findings };
}

function countsAsNode(name: string, fragment: boolean): boolean {
  if (name === 'html' || name === 'head' || name === 'meta') return false;
  return !(fragment && name === 'body');
}

interface CssContext {
  readonly tables: ScanTables;
  readonly limits: HtmlCheckLimits;
  /** Nodes walked so far in this message (the cap is for all its CSS). */
  readonly cssNodes: number;
  readonly checkTime: () => void;
  /** `at`: the offset in this CSS text. */
  readonly found: (slug: string, at: number) => void;
}

/** Walks one style sheet (or one style attribute's declarations); returns the node count so far. */
async function scanCss(css: string, context: CssContext): Promise<number> {
  const { tables, limits, found } = context;
  let root: postcss.Root;
  try {
    root = postcss.parse(css);
  } catch {
    // CSS that does not parse is ignored by mail clients too; nothing in it is "used".
    return context.cssNodes;
  }
  let walked = context.cssNodes;
  const stack: { node: ChildNode; depth: number; inKeyframes: boolean }[] = [];
  const pushChildren = (container: Container, depth: number, inKeyframes: boolean) => {
    const children = container.nodes ?? [];
    for (let i = children.length - 1; i >= 0; i--) stack.push({ node: children[i]!, depth, inKeyframes });
  };
  pushChildren(root, 0, false);
  while (stack.length > 0) {
    const { node, depth, inKeyframes } = stack.pop()!;
    if (++walked > limits.maxCssNodes) throw tooLarge(`the CSS has over ${limits.maxCssNodes} rules and declarations; the check reads at most that`);
    if (walked % CSS_YIELD_EVERY === 0) {
      context.checkTime();
      await yieldToEventLoop();
    }
    const at = node.source?.start?.offset ?? 0;
    switch (node.type) {
      case 'comment':
        found('css-comments', at);
        break;
      case 'decl':
        for (const slug of declarationSlugs(tables.properties, node.prop, node.value, node.important === true)) found(slug, at);
        break;
      case 'atrule': {
        for (const slug of atRuleSlugs(node.name, node.params)) found(slug, at);
        if (depth + 1 > limits.maxCssDepth) throw tooLarge(`the CSS nests deeper than ${limits.maxCssDepth} levels`);
        pushChildren(node, depth + 1, inKeyframes || /^(-[a-z]+-)?keyframes$/i.test(node.name));
        break;
      }
      case 'rule': {
        if (node.selector.length > limits.maxSelectorChars) {
          throw tooLarge(`a CSS selector list is over ${limits.maxSelectorChars} characters; the check reads at most that`);
        }
        if (node.parent?.type === 'rule') found('css-nesting', at);
        // Keyframe selectors (from, to, 50%) are not element selectors.
        if (!inKeyframes) for (const slug of selectorSlugs(node.selector, tables.slugs)) found(slug, at);
        if (depth + 1 > limits.maxCssDepth) throw tooLarge(`the CSS nests deeper than ${limits.maxCssDepth} levels`);
        pushChildren(node, depth + 1, inKeyframes);
        break;
      }
    }
  }
  return walked;
}

/** Offsets where each line starts. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineOf(starts: readonly number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid]! <= offset) low = mid;
    else high = mid - 1;
  }
  return low;
}
