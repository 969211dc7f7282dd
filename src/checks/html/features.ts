/**
 * Which caniemail feature (by slug) a piece of HTML or CSS is: the element, attribute, property,
 * value, at-rule, media feature and selector tables. Pure lookups, no parsing.
 */

/** Mailpit reports `<script>` too, though caniemail has no page for it: no email client runs it. */
export const SCRIPT_SLUG = 'html-script';

const ELEMENT_SLUGS: Readonly<Record<string, string>> = {
  abbr: 'html-abbr', acronym: 'html-acronym', address: 'html-address', audio: 'html-audio', base: 'html-base', bdi: 'html-bdi',
  blockquote: 'html-blockquote', body: 'html-body', code: 'html-code', del: 'html-del', dfn: 'html-dfn', dialog: 'html-dialog',
  div: 'html-div', form: 'html-form', hr: 'html-hr', img: 'html-img', link: 'html-link', marquee: 'html-marquee',
  meter: 'html-meter', object: 'html-object', embed: 'html-object', p: 'html-p', picture: 'html-picture', pre: 'html-pre',
  progress: 'html-progress', rp: 'html-rp', rt: 'html-rt', ruby: 'html-ruby', select: 'html-select', small: 'html-small',
  span: 'html-span', strike: 'html-strike', strong: 'html-strong', style: 'html-style', svg: 'html-svg', table: 'html-table',
  textarea: 'html-textarea', video: 'html-video', wbr: 'html-wbr', map: 'html-image-maps', area: 'html-image-maps',
  h1: 'html-h1-h6', h2: 'html-h1-h6', h3: 'html-h1-h6', h4: 'html-h1-h6', h5: 'html-h1-h6', h6: 'html-h1-h6',
  ul: 'html-lists', ol: 'html-lists', li: 'html-lists', dl: 'html-lists', dt: 'html-lists', dd: 'html-lists',
  article: 'html-semantics', aside: 'html-semantics', details: 'html-semantics', figcaption: 'html-semantics', figure: 'html-semantics',
  footer: 'html-semantics', header: 'html-semantics', main: 'html-semantics', mark: 'html-semantics', nav: 'html-semantics',
  section: 'html-semantics', summary: 'html-semantics', time: 'html-semantics',
};

const ATTRIBUTE_SLUGS: Readonly<Record<string, string>> = {
  align: 'html-align', background: 'html-background', cellpadding: 'html-cellpadding', cellspacing: 'html-cellspacing',
  dir: 'html-dir', height: 'html-height', width: 'html-width', hidden: 'html-hidden', lang: 'html-lang', loading: 'html-loading-attribute',
  required: 'html-required', role: 'html-role', usemap: 'html-image-maps', srcset: 'html-srcset', target: 'html-target', valign: 'html-valign', popover: 'html-popover',
  'aria-describedby': 'html-aria-describedby', 'aria-hidden': 'html-aria-hidden', 'aria-label': 'html-aria-label',
  'aria-labelledby': 'html-aria-labelledby', 'aria-live': 'html-aria-live',
  // AMP for Email marks its documents on <html>.
  '⚡4email': 'amp', amp4email: 'amp',
};

const INPUT_TYPE_SLUGS: Readonly<Record<string, string>> = {
  checkbox: 'html-input-checkbox', hidden: 'html-input-hidden', radio: 'html-input-radio', reset: 'html-input-reset',
  submit: 'html-input-submit', text: 'html-input-text',
};

const IMAGE_EXTENSION_SLUGS: Readonly<Record<string, string>> = {
  apng: 'image-apng', avif: 'image-avif', bmp: 'image-bmp', gif: 'image-gif', hdr: 'image-hdr', heif: 'image-heif', heic: 'image-heif',
  ico: 'image-ico', jpg: 'image-jpg', jpeg: 'image-jpg', mp4: 'image-mp4', png: 'image-png', svg: 'image-svg', tif: 'image-tiff',
  tiff: 'image-tiff', webp: 'image-webp',
};

/** The slugs of an element with its attributes (names lower-cased). */
export function elementSlugs(name: string, attributes: Readonly<Record<string, string>>): string[] {
  const slugs: string[] = [];
  const element = ELEMENT_SLUGS[name];
  if (element) slugs.push(element);
  for (const attribute of Object.keys(attributes)) {
    const slug = ATTRIBUTE_SLUGS[attribute];
    if (slug) slugs.push(slug);
  }
  const type = (attributes.type ?? '').trim().toLowerCase();
  if (name === 'input') {
    const slug = INPUT_TYPE_SLUGS[type || 'text'];
    if (slug) slugs.push(slug);
  }
  if (name === 'button') {
    // A button's default type is submit.
    if (type === 'reset') slugs.push('html-button-reset');
    else if (type === '' || type === 'submit') slugs.push('html-button-submit');
  }
  if (name === 'meta' && /^(color-scheme|supported-color-schemes)$/i.test((attributes.name ?? '').trim())) slugs.push('html-meta-color-scheme');
  if (name === 'a' && attributes.href !== undefined) {
    const href = attributes.href.trim();
    if (href.startsWith('#')) slugs.push('html-anchor-links');
    else if (/^mailto:/i.test(href)) slugs.push('html-mailto-links');
  }
  if (name === 'img' && attributes.src !== undefined) {
    const slug = imageSlug(attributes.src);
    if (slug) slugs.push(slug);
  }
  return slugs;
}

/** An image's format from its URL: a data: URL is "Base 64"; otherwise the file extension. */
function imageSlug(src: string): string | undefined {
  const url = src.trim();
  if (/^data:image\//i.test(url)) return 'image-base64';
  const path = url.replace(/[?#].*$/s, '');
  const extension = /\.([a-z0-9]{2,5})$/i.exec(path)?.[1]?.toLowerCase();
  return extension ? IMAGE_EXTENSION_SLUGS[extension] : undefined;
}

/** `<script>` as Mailpit counts it: JSON data blocks are not scripts. */
export function isScript(attributes: Readonly<Record<string, string>>): boolean {
  const type = (attributes.type ?? '').trim().toLowerCase();
  return type !== 'application/ld+json' && type !== 'application/json';
}

/**
 * Properties that have no caniemail page of their own name but belong to one (longhands of a
 * shorthand page, or several properties on one page). Keyword lists in the data add more.
 */
const PROPERTY_ALIASES: Readonly<Record<string, string>> = {
  top: 'css-left-right-top-bottom', left: 'css-left-right-top-bottom', right: 'css-left-right-top-bottom', bottom: 'css-left-right-top-bottom',
  'padding-top': 'css-padding', 'padding-right': 'css-padding', 'padding-bottom': 'css-padding', 'padding-left': 'css-padding',
  'border-top-left-radius': 'css-border-radius', 'border-top-right-radius': 'css-border-radius',
  'border-bottom-left-radius': 'css-border-radius', 'border-bottom-right-radius': 'css-border-radius',
  'overflow-x': 'css-overflow', 'overflow-y': 'css-overflow', 'row-gap': 'css-gap', 'column-gap': 'css-gap',
  'grid-template-areas': 'css-grid-template', 'grid-template-columns': 'css-grid-template', 'grid-template-rows': 'css-grid-template',
  'list-style-type': 'css-list-style-type', 'text-decoration-line': 'css-text-decoration-line',
};

/** Prefixes of property families with one page: `animation-name` is on the animation page. */
const PROPERTY_PREFIX_SLUGS: readonly (readonly [prefix: string, slug: string])[] = [
  ['animation-', 'css-animation'], ['transition-', 'css-transition'], ['scroll-snap-', 'css-scroll-snap'], ['inset-', 'css-inset'],
];

/** Pages that are not about a property, so their keywords are not property names. */
const NOT_PROPERTY_PAGE = /^css-(at-|pseudo-|selector-|unit-|function-|display-|linear-|radial-|conic-|rgb|modern-|sytem-|important|comments|nesting|variables)/;

/** Property name → slug, from the data's slugs and keyword lists plus the aliases above. */
export function buildPropertyTable(slugs: Iterable<readonly [slug: string, keywords: string | null]>): Map<string, string> {
  const table = new Map<string, string>();
  const byKeyword = new Map<string, string>();
  for (const [slug, keywords] of slugs) {
    if (!slug.startsWith('css-') || NOT_PROPERTY_PAGE.test(slug)) continue;
    table.set(slug.slice(4), slug);
    for (const keyword of (keywords ?? '').split(',')) {
      const word = keyword.trim().toLowerCase();
      // Property names only ("border-top-width"), not phrases ("dark mode") or values ("inline-block" is on display's page, not a property).
      if (/^[a-z]+(-[a-z]+)+$/.test(word) && !byKeyword.has(word)) byKeyword.set(word, slug);
    }
  }
  // The page named after a property wins over a page that lists it among its keywords.
  for (const [word, slug] of byKeyword) if (!table.has(word)) table.set(word, slug);
  for (const [property, slug] of Object.entries(PROPERTY_ALIASES)) if (!table.has(property)) table.set(property, slug);
  return table;
}

/** A property's page: its own, else its family's (by prefix). Vendor prefixes are dropped first. */
export function propertySlug(table: ReadonlyMap<string, string>, property: string): string | undefined {
  const name = property.toLowerCase().replace(/^-(webkit|moz|ms|o)-/, '');
  const own = table.get(name);
  if (own) return own;
  for (const [prefix, slug] of PROPERTY_PREFIX_SLUGS) if (name.startsWith(prefix)) return slug;
  return undefined;
}

const FUNCTION_SLUGS: Readonly<Record<string, string>> = {
  'linear-gradient': 'css-linear-gradient', 'repeating-linear-gradient': 'css-linear-gradient',
  'radial-gradient': 'css-radial-gradient', 'repeating-radial-gradient': 'css-radial-gradient',
  'conic-gradient': 'css-conic-gradient', 'repeating-conic-gradient': 'css-conic-gradient',
  rgb: 'css-rgb', rgba: 'css-rgba', lch: 'css-modern-color', oklch: 'css-modern-color', lab: 'css-modern-color', oklab: 'css-modern-color',
  calc: 'css-unit-calc', clamp: 'css-function-clamp', min: 'css-function-min', max: 'css-function-max',
  'light-dark': 'css-function-light-dark', var: 'css-variables',
};

const UNIT_SLUGS: Readonly<Record<string, string>> = {
  ch: 'css-unit-ch', cm: 'css-unit-cm', em: 'css-unit-em', ex: 'css-unit-ex', in: 'css-unit-in', mm: 'css-unit-mm', pc: 'css-unit-pc',
  '%': 'css-unit-percent', pt: 'css-unit-pt', px: 'css-unit-px', rem: 'css-unit-rem', vh: 'css-unit-vh', vmax: 'css-unit-vmax',
  vmin: 'css-unit-vmin', vw: 'css-unit-vw',
};

const MAX_VALUE_CHARS = 10_000;

/**
 * The value with strings and url(...) blanked: they hold text, not CSS ("5px" in a file name is
 * no unit). One pass; an unclosed string or url( blanks the rest.
 */
function withoutTextAndUrls(value: string): string {
  let out = '';
  let i = 0;
  while (i < value.length) {
    const ch = value[i]!;
    let close = -1;
    if (ch === '"' || ch === "'") close = value.indexOf(ch, i + 1);
    else if (ch === 'u' && value.startsWith('url(', i)) close = value.indexOf(')', i + 4);
    else {
      out += ch;
      i++;
      continue;
    }
    if (close === -1) break;
    out += ' ';
    i = close + 1;
  }
  return out;
}

/** The slugs of one declaration: its property's page, then what its value uses (functions, units, keywords). */
export function declarationSlugs(table: ReadonlyMap<string, string>, property: string, value: string, important: boolean): string[] {
  const slugs: string[] = [];
  const name = property.toLowerCase();
  if (name.startsWith('--')) slugs.push('css-variables');
  else {
    const slug = propertySlug(table, name);
    if (slug) slugs.push(slug);
  }
  // Past this, a value is an inline image or noise; its start says what it uses.
  const lowered = value.slice(0, MAX_VALUE_CHARS).toLowerCase();
  if (name.replace(/^-(webkit|moz|ms|o)-/, '') === 'display') {
    const display = lowered.trim();
    if (/^(inline-)?flex\b/.test(display)) slugs.push('css-display-flex');
    else if (/^(inline-)?grid\b/.test(display)) slugs.push('css-display-grid');
    else if (/^none\b/.test(display)) slugs.push('css-display-none');
  }
  if (important) slugs.push('css-important');
  const code = withoutTextAndUrls(lowered);
  // Names bounded in length, so a long run of letters costs linear time, not quadratic.
  for (const match of code.matchAll(/(?<![a-z-])([a-z][a-z-]{0,30})\(/g)) {
    const slug = FUNCTION_SLUGS[match[1]!];
    if (slug) slugs.push(slug);
  }
  for (const match of code.matchAll(/(?<![\w#.-])[+-]?(?:\d{1,30}\.?\d{0,30}|\.\d{1,30})(px|rem|em|ex|ch|vmin|vmax|vh|vw|pt|pc|cm|mm|in|%)(?![\w-])/g)) {
    slugs.push(UNIT_SLUGS[match[1]!]!);
  }
  if (/(^|[\s,])initial($|[\s,;!])/.test(code)) slugs.push('css-unit-initial');
  if (/(^|[\s,])(system-ui|ui-serif|ui-sans-serif|ui-rounded|ui-monospace)($|[\s,;!])/.test(code)) slugs.push('css-sytem-ui');
  return slugs;
}

/** The slugs of an at-rule (its name without vendor prefix, lower case, and its prelude). */
export function atRuleSlugs(name: string, params: string): string[] {
  const rule = name.toLowerCase().replace(/^-(webkit|moz|ms|o)-/, '');
  switch (rule) {
    case 'font-face': return ['css-at-font-face'];
    case 'import': return ['css-at-import'];
    case 'keyframes': return ['css-at-keyframes'];
    case 'supports': return ['css-at-supports'];
    case 'media': return ['css-at-media', ...mediaFeatureSlugs(params)];
    default: return [];
  }
}

function mediaFeatureSlugs(params: string): string[] {
  const query = params.toLowerCase();
  const slugs: string[] = [];
  if (/prefers-color-scheme/.test(query)) slugs.push('css-at-media-prefers-color-scheme');
  if (/prefers-reduced-motion/.test(query)) slugs.push('css-at-media-prefers-reduced-motion');
  if (/\borientation\b/.test(query)) slugs.push('css-at-media-orientation');
  if (/\(\s*(any-)?hover\b/.test(query)) slugs.push('css-at-media-hover');
  if (/device-pixel-ratio|\bresolution\b/.test(query)) slugs.push('css-at-media-device-pixel-ratio');
  return slugs;
}

/** Pseudo-elements CSS 2 wrote with one colon; `:before` is still the element. */
const LEGACY_PSEUDO_ELEMENTS = new Set(['before', 'after', 'first-letter', 'first-line']);

/**
 * The slugs of a selector list: grouping, combinators, simple selectors, pseudo-classes and
 * pseudo-elements. A small scanner, not a full selector parser: it only needs to know what kinds
 * of selector appear. `known` says which pseudo pages exist.
 */
export function selectorSlugs(selector: string, known: ReadonlySet<string>): string[] {
  const slugs = new Set<string>();
  const text = selector;
  let depth = 0;
  let simpleInCompound = 0;
  let compounds = 0;
  let pendingSpace = false;
  let groups = 1;
  const endCompound = () => {
    if (simpleInCompound >= 2) slugs.add('css-selector-chaining');
    if (simpleInCompound > 0) compounds++;
    simpleInCompound = 0;
  };
  const simple = (slug: string | null) => {
    if (pendingSpace && depth === 0 && compounds > 0) slugs.add('css-selector-descendant');
    pendingSpace = false;
    if (slug) slugs.add(slug);
    if (depth === 0) simpleInCompound++;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    // Strings and attribute selectors' contents hold no selectors: skipped in one step (an
    // unclosed one ends the scan, so every character is looked at once).
    if (ch === '"' || ch === "'" || ch === '[') {
      const close = text.indexOf(ch === '[' ? ']' : ch, i + 1);
      if (ch === '[') {
        slugs.add('css-selector-attribute');
        simple(null);
      }
      if (close === -1) break;
      i = close;
      continue;
    }
    if (ch === '(') { depth++; continue; }
    if (ch === ')') { depth = Math.max(0, depth - 1); continue; }
    if (depth === 0 && ch === ',') { endCompound(); compounds = 0; pendingSpace = false; groups++; continue; }
    if (depth === 0 && (ch === '>' || ch === '+' || ch === '~')) {
      endCompound();
      pendingSpace = false;
      slugs.add(ch === '>' ? 'css-selector-child' : ch === '+' ? 'css-selector-adjacent-sibling' : 'css-selector-general-sibling');
      continue;
    }
    if (/\s/.test(ch)) {
      if (depth === 0 && simpleInCompound > 0) { endCompound(); pendingSpace = true; }
      continue;
    }
    if (ch === ':') {
      const element = text[i + 1] === ':';
      const start = i + (element ? 2 : 1);
      const name = /^[a-zA-Z-]+/.exec(text.slice(start, start + 40))?.[0]?.toLowerCase() ?? '';
      i = start + name.length - 1;
      const slug = element || LEGACY_PSEUDO_ELEMENTS.has(name) ? `css-pseudo-element-${name}` : `css-pseudo-class-${name}`;
      simple(known.has(slug) ? slug : null);
      continue;
    }
    const ident = /^-?[a-zA-Z_][\w-]*/;
    if (ch === '.' || ch === '#') {
      const name = ident.exec(text.slice(i + 1, i + 200))?.[0] ?? '';
      i += name.length;
      simple(ch === '.' ? 'css-selector-class' : 'css-selector-id');
      continue;
    }
    if (ch === '*') { simple('css-selector-universal'); continue; }
    const name = ident.exec(text.slice(i, i + 200))?.[0];
    if (name) {
      i += name.length - 1;
      simple('css-selector-type');
    }
  }
  endCompound();
  if (groups > 1) slugs.add('css-selector-grouping');
  return [...slugs];
}
