/**
 * The HTML-source tab's reading of highlight.js's output (web/src/source-lines.ts): spans become
 * class names on text runs, split at line breaks (a span across lines is carried onto the next),
 * entities decoded back to the source's characters, and escaped markup stays text. (highlight.js
 * itself is not imported here: its types bring the DOM's into Node's type check. The browser
 * test of the tab checks a real highlighted source line for line.)
 */
import { describe, expect, it } from 'vitest';
import { toLines } from '../../web/src/source-lines.js';

const text = (lines: ReturnType<typeof toLines>): string[] => lines.map((runs) => runs.map((r) => r.text).join(''));

describe('highlighted HTML source as lines of text runs', () => {
  it('keeps escaped markup as text, never as a run of its own', () => {
    const lines = toLines('&lt;script&gt;alert(&quot;&lt;b&gt;&quot;)&lt;/script&gt;\n&lt;img src=x onerror=&quot;alert(&#x27;1&#x27;)&quot;&gt;');
    expect(text(lines)).toEqual(['<script>alert("<b>")</script>', '<img src=x onerror="alert(\'1\')">']);
    expect(lines.flat().every((run) => run.className === '')).toBe(true);
  });

  it('carries a span across a line break and decodes the escapes highlight.js writes', () => {
    const lines = toLines('<span class="hljs-comment">&lt;!-- a\nb --&gt;</span>\n<span class="hljs-tag">&lt;<span class="hljs-name">p</span>&gt;</span>&quot;&#x27;&amp;');
    expect(lines).toEqual([
      [{ text: '<!-- a', className: 'hljs-comment' }],
      [{ text: 'b -->', className: 'hljs-comment' }],
      [
        { text: '<', className: 'hljs-tag' },
        { text: 'p', className: 'hljs-tag hljs-name' },
        { text: '>', className: 'hljs-tag' },
        { text: '"\'&', className: '' },
      ],
    ]);
  });

  it('starts no line for the break that ends the last line, and keeps empty lines inside', () => {
    expect(text(toLines('&lt;p&gt;\n\n&lt;/p&gt;\n'))).toEqual(['<p>', '', '</p>']);
    expect(toLines('')).toEqual([[]]);
  });
});
