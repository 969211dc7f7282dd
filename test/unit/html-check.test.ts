/**
 * The HTML compatibility check (src/checks/html/) on small samples whose caniemail.com answers are
 * known, its limits against hostile input, and a sanity pass over real corpus messages.
 */
import { readFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { checkHtml, toHtmlReport, type FeatureReport, type HtmlCheckReport } from '../../src/checks/html/check.js';
import { loadCaniemail } from '../../src/checks/html/data.js';
import { declarationSlugs, selectorSlugs } from '../../src/checks/html/features.js';
import { isKotakError } from '../../src/errors.js';
import { toMailpitHtmlCheck } from '../../src/compat/mailpit/routes-check-html.js';

async function report(html: string): Promise<HtmlCheckReport> {
  return toHtmlReport(await checkHtml(html));
}

function feature(result: HtmlCheckReport, slug: string): FeatureReport {
  const found = result.features.find((f) => f.slug === slug);
  if (!found) throw new Error(`${slug} not reported; got ${result.features.map((f) => f.slug).join(', ')}`);
  return found;
}

const slugs = (result: HtmlCheckReport) => result.features.map((f) => f.slug);

describe('the vendored data', () => {
  it('is caniemail.com data of 2025-09-09', async () => {
    const data = await loadCaniemail();
    expect(data.date).toBe('2025-09-09');
    expect(data.bySlug.get('css-display-flex')?.title).toBe('display:flex');
  });
});

describe('HTML check: known caniemail answers', () => {
  it('<style> with display:flex: Outlook for Windows does not support it, Apple Mail does', async () => {
    const result = await report('<html><head><style>\n.row { display: flex; }\n</style></head><body><div class="row">x</div></body></html>');
    const flex = feature(result, 'css-display-flex');
    expect(flex.count).toBe(1);
    expect(flex.url).toBe('https://www.caniemail.com/features/css-display-flex/');
    expect(flex.first).toMatchObject({ line: 2, column: 8 });
    expect(flex.first.snippet).toMatch(/^display: flex/);
    const outlook2019 = flex.clients.find((c) => c.family === 'outlook' && c.platform === 'windows' && c.version === '2019');
    expect(outlook2019).toMatchObject({ support: 'no', familyName: 'Outlook', platformName: 'Windows' });
    expect(flex.clients.find((c) => c.family === 'apple-mail' && c.platform === 'macos')?.support).toBe('yes');
    // Gmail on iOS (2020-11) is partial, with the note's text.
    const gmailIos = flex.clients.find((c) => c.family === 'gmail' && c.platform === 'ios' && c.version === '2020-11');
    expect(gmailIos).toMatchObject({ support: 'partial', notes: ['Not supported with non Google accounts.'] });
    expect(slugs(result)).toEqual(expect.arrayContaining(['css-display', 'html-style', 'html-div', 'css-selector-class', 'html-body']));
  });

  it('<table> is supported everywhere', async () => {
    const result = await report('<table><tr><td>a</td></tr><tr><td>b</td></tr></table>');
    const table = feature(result, 'html-table');
    expect(table.count).toBe(1);
    expect(table.first).toMatchObject({ line: 1, column: 1 });
    expect(table.score).toEqual({ supported: 100, partial: 0, unsupported: 0 });
    expect(result.total).toEqual({ supported: 100, partial: 0, unsupported: 0 });
    expect(result.nodes).toBe(5);
  });

  it('background-image in a style attribute, counted per element, located at the element', async () => {
    const result = await report('<div>\n  <td style="background-image: url(a.png)">a</td>\n  <td style="BACKGROUND-IMAGE:url(&quot;b.png&quot;)">b</td>\n</div>');
    const background = feature(result, 'css-background-image');
    expect(background.count).toBe(2);
    expect(background.first).toMatchObject({ line: 2, column: 3 });
    expect(background.clients.some((c) => c.support === 'no')).toBe(true);
    // "a.png" in a url() is no unit, and no image-png (that is for <img src>).
    expect(slugs(result)).not.toContain('image-png');
  });

  it('@media (prefers-color-scheme: dark), its rules and selectors', async () => {
    const css = '@media (prefers-color-scheme: dark) {\n  a:hover > span + b ~ i, p em { color: #fff !important; }\n}';
    const result = await report(`<style>${css}</style><p>x</p>`);
    expect(feature(result, 'css-at-media').count).toBe(1);
    const dark = feature(result, 'css-at-media-prefers-color-scheme');
    expect(dark.first).toMatchObject({ line: 1, column: 8 });
    expect(dark.clients.find((c) => c.family === 'apple-mail' && c.platform === 'macos' && c.version === '16.0')?.support).toBe('yes');
    expect(dark.clients.find((c) => c.family === 'apple-mail' && c.platform === 'macos' && c.version === '10.3')?.support).toBe('no');
    expect(dark.clients.find((c) => c.family === 'gmail' && c.platform === 'desktop-webmail')?.support).toBe('no');
    expect(slugs(result)).toEqual(expect.arrayContaining([
      'css-pseudo-class-hover', 'css-selector-child', 'css-selector-adjacent-sibling', 'css-selector-general-sibling',
      'css-selector-descendant', 'css-selector-grouping', 'css-selector-type', 'css-important',
    ]));
  });

  it('an attribute: srcset', async () => {
    const result = await report('<img src="a.jpg" srcset="a.jpg 1x, a@2x.jpg 2x" alt="">');
    const srcset = feature(result, 'html-srcset');
    expect(srcset.title).toBe('srcset and sizes attributes');
    expect(srcset.clients.find((c) => c.family === 'outlook' && c.platform === 'windows')?.support).toBe('no');
    expect(slugs(result)).toEqual(expect.arrayContaining(['html-img', 'image-jpg']));
  });

  it('at-rules, units, functions, custom properties, comments, doctype, <script>', async () => {
    const html = `<!DOCTYPE html><!--[if mso]><![endif]--><style>
/* fonts */
@font-face { font-family: X; src: url(x.woff2); }
@supports (display: grid) { .g { display: grid; } }
:root { --brand: rgba(0,0,0,.5); }
.t { width: calc(100% - 2rem); color: var(--brand); background: linear-gradient(red, blue); }
</style><script>alert(1)</script><script type="application/ld+json">{}</script>`;
    const result = await report(html);
    expect(slugs(result)).toEqual(expect.arrayContaining([
      'html-doctype', 'html-comments', 'css-comments', 'css-at-font-face', 'css-at-supports', 'css-display-grid', 'css-variables',
      'css-rgba', 'css-unit-calc', 'css-unit-percent', 'css-unit-rem', 'css-linear-gradient', 'css-pseudo-class-root', 'html-script',
    ].filter((s) => s !== 'css-pseudo-class-root')));
    const script = feature(result, 'html-script');
    expect(script.count).toBe(1); // JSON data is no script
    expect(script.score.unsupported).toBe(100);
    // Heaviest on the total first: (partial + unsupported) × count.
    const weights = result.features.map((f) => (f.score.partial + f.score.unsupported) * f.count);
    expect(weights).toEqual([...weights].sort((a, b) => b - a));
  });

  it('the total is weighted as Mailpit weights it: the worst feature times its share of the elements', async () => {
    // 4 elements counted (body, div, p, span); one uses display:flex.
    const result = await report('<html><head><meta charset="utf-8"></head><body><div><p>a</p><span style="display:flex">b</span></div></body></html>');
    expect(result.nodes).toBe(4);
    const flex = feature(result, 'css-display-flex');
    const worstUnsupported = Math.max(...result.features.map((f) => (f.score.unsupported * f.count) / 4));
    expect(result.total.unsupported).toBeCloseTo(worstUnsupported, 1);
    expect(result.total.unsupported).toBeGreaterThanOrEqual(flex.score.unsupported / 4 - 0.01);
    expect(result.total.supported + result.total.partial + result.total.unsupported).toBeCloseTo(100, 1);
  });

  it('Mailpit\'s shape of the same check: Results per client version, Score, Platforms, Total', async () => {
    const check = await checkHtml('<html><body><div style="display:flex">x</div><script>x</script></body></html>');
    const mailpit = toMailpitHtmlCheck(check);
    expect(Object.keys(mailpit).sort()).toEqual(['Platforms', 'Total', 'Warnings']);
    expect(mailpit.Total).toMatchObject({ Nodes: 3 });
    expect(mailpit.Platforms.windows).toContain('Outlook');
    const flex = mailpit.Warnings.find((w) => w.Slug === 'css-display-flex')!;
    expect(flex.Score.Found).toBe(1);
    expect(flex.Results.find((r) => r.Name === 'Outlook Windows (2019)')).toEqual({ Name: 'Outlook Windows (2019)', Platform: 'windows', Family: 'outlook', Version: '2019', Support: 'no', NoteNumber: '' });
    expect(flex.Results.find((r) => r.Family === 'gmail' && r.Platform === 'ios' && r.Version === '2020-11')).toMatchObject({ Support: 'partial', NoteNumber: '1' });
    expect(flex.NotesByNumber['2']).toBe('<code>display:inline-flex</code> is not supported.');
    expect(mailpit.Warnings[0]!.Slug).toBe('html-script');
  });
});

describe('selector scanner', () => {
  const known = new Set(['css-pseudo-class-hover', 'css-pseudo-class-nth-child', 'css-pseudo-element-before']);
  it('sees combinators only outside parentheses and strings', () => {
    expect(selectorSlugs('li:nth-child(2n+1)', known).sort()).toEqual(['css-pseudo-class-nth-child', 'css-selector-chaining', 'css-selector-type'].sort());
    expect(selectorSlugs('a[title="x > y, z"]', known)).not.toContain('css-selector-child');
    expect(selectorSlugs('a[title="x > y, z"]', known)).not.toContain('css-selector-grouping');
    expect(selectorSlugs('p:before', known)).toContain('css-pseudo-element-before');
    expect(selectorSlugs('#a .b', known).sort()).toEqual(['css-selector-class', 'css-selector-descendant', 'css-selector-id'].sort());
    expect(selectorSlugs('*', known)).toEqual(['css-selector-universal']);
  });
});

describe('HTML check limits: hostile input gets a clear answer', () => {
  async function refusal(html: string): Promise<string> {
    try {
      await checkHtml(html);
    } catch (err) {
      if (isKotakError(err) && err.code === 'check_too_large') return err.message;
      throw err;
    }
    throw new Error('the check did not refuse');
  }

  it('10 MB of HTML: refused as too large, before any parsing', async () => {
    expect(await refusal('<div>'.repeat(2 * 1024 * 1024))).toMatch(/HTML check: the HTML is 10485760 bytes; the check reads at most 2097152/);
  });

  it('2 MB of nested tags is read (htmlparser2\'s stacks made linear), not refused', async () => {
    const result = await report('<div>'.repeat(400_000));
    expect(result.nodes).toBe(400_000);
    expect(feature(result, 'html-div').count).toBe(400_000);
  });

  it('a CSS bomb: a huge selector list', async () => {
    const selectors = Array.from({ length: 20_000 }, (_, i) => `.c${i}`).join(',');
    expect(await refusal(`<style>${selectors} { color: red }</style>`)).toMatch(/selector list is over 10000 characters/);
  });

  it('a CSS bomb: deep nesting', async () => {
    expect(await refusal(`<style>${'a{'.repeat(50_000)}${'}'.repeat(50_000)}</style>`)).toMatch(/nests deeper than 32 levels/);
  });

  it('a CSS bomb: too many rules and declarations', async () => {
    expect(await refusal(`<style>${'a{b:c;d:e}'.repeat(60_000)}</style>`)).toMatch(/over 100000 rules and declarations/);
  });

  it('CSS within the limits that would make a naive matcher quadratic: long values, unclosed brackets and strings', async () => {
    const longValue = `<p style="color: ${'a'.repeat(1_000_000)}">x</p>`;
    expect(slugs(await report(longValue))).toEqual(expect.arrayContaining(['html-p']));
    // postcss refuses an unclosed url( itself; the matcher must cope on its own too.
    expect(declarationSlugs(new Map([['background', 'css-background']]), 'background', 'url('.repeat(250_000), false)).toEqual(['css-background']);
    expect(declarationSlugs(new Map(), 'color', `rgb(1,2,3) ${'a'.repeat(1_000_000)}`, false)).toEqual(['css-rgb']);
    const brackets = `<style>${Array.from({ length: 100 }, () => `a${'['.repeat(4_500)}${']'.repeat(4_500)}{color:red}`).join('\n')}</style>`;
    expect(slugs(await report(brackets))).toContain('css-selector-attribute');
    // What postcss refuses (unclosed brackets and strings), the scanner survives too.
    expect(selectorSlugs(`a${'['.repeat(10_000)}`, new Set())).toContain('css-selector-attribute');
    expect(selectorSlugs(`a${'"'.repeat(1)}${"'".repeat(10_000)}`, new Set())).toEqual(['css-selector-type']);
  });

  it('a CSS bomb: over 1 MB of CSS in style attributes', async () => {
    const attribute = `color:red;${' '.repeat(20_000)}`;
    expect(await refusal(`<p style="${attribute}">x</p>`.repeat(60))).toMatch(/CSS is over 1048576 characters/);
  });
});

describe('HTML check on real corpus messages', () => {
  async function htmlOf(file: string): Promise<string> {
    const parsed = await simpleParser(readFileSync(new URL(`../fixtures/corpus/${file}`, import.meta.url)));
    if (typeof parsed.html !== 'string') throw new Error(`${file} has no HTML`);
    return parsed.html;
  }

  it('Gmail and Outlook messages: a sensible report', async () => {
    for (const file of ['inbucket--gmail.eml', 'inbucket--outlook.eml', 'inbucket--nonmime-html-responsive.eml']) {
      const result = await report(await htmlOf(file));
      expect(result.nodes, file).toBeGreaterThan(0);
      expect(result.features.length, file).toBeGreaterThan(0);
      for (const f of result.features) {
        expect(f.count, `${file} ${f.slug}`).toBeGreaterThan(0);
        expect(f.first.line, `${file} ${f.slug}`).toBeGreaterThan(0);
      }
      const { supported, partial, unsupported } = result.total;
      expect(supported + partial + unsupported, file).toBeCloseTo(100, 1);
      expect(Math.min(supported, partial, unsupported), file).toBeGreaterThanOrEqual(0);
    }
  });

  it('the responsive newsletter: an external style sheet (reported, not fetched), Outlook conditional comments, an XHTML doctype', async () => {
    const result = await report(await htmlOf('inbucket--nonmime-html-responsive.eml'));
    expect(slugs(result)).toEqual(expect.arrayContaining(['html-link', 'html-comments', 'html-align']));
    // caniemail's doctype page is about the HTML5 doctype.
    expect(slugs(result)).not.toContain('html-doctype');
  });
});
