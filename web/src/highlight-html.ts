/**
 * The HTML-source tab's highlighter, loaded only when that tab first opens (a dynamic import() in
 * html-source.tsx; scripts/build-web.js splits it into its own file under /assets/). highlight.js's
 * core with its XML/HTML grammar only.
 *
 * Its output is turned into plain data (lines of text runs with class names, source-lines.ts)
 * rather than markup: the message's source never becomes HTML in the inbox's document.
 */
import hljs from 'highlight.js/lib/core';
import xml from 'highlight.js/lib/languages/xml';
import { toLines, type SourceRun } from './source-lines.js';

export type { SourceRun };

hljs.registerLanguage('xml', xml);

export function highlightHtml(source: string): SourceRun[][] {
  return toLines(hljs.highlight(source, { language: 'xml', ignoreIllegals: true }).value);
}
