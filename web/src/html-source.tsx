/**
 * The HTML-source tab: the message's HTML as it was sent (not the sanitised render the HTML tab
 * shows), with line numbers, long lines wrapped, and syntax colours from highlight.js, which is
 * fetched the first time this tab opens (highlight-html.ts). Every character of the source is
 * inserted as text.
 */
import { useEffect, useState } from 'preact/hooks';
import { formatSize } from './format.js';
import type { SourceRun } from './source-lines.js';

/**
 * Above this many characters the source is shown without colours: highlight.js blocks the page
 * while it works, about 140 ms for 64 KB of table-heavy mail HTML and 400 ms for 256 KB (Node 20,
 * on a busy 2-core machine), and such large mail is generated anyway.
 */
export const HIGHLIGHT_LIMIT = 128 * 1024;
/** Above this many characters only the start is shown (the .eml download holds all of it). */
export const SOURCE_DISPLAY_LIMIT = 2 * 1024 * 1024;

/** Numbered as toLines numbers them: the line break that ends the last line starts no line of its own. */
function plainLines(source: string): SourceRun[][] {
  return source.replace(/(?:\r\n|\n|\r)$/, '').split(/\r\n|\n|\r/).map((line) => (line === '' ? [] : [{ text: line, className: '' }]));
}

export function HtmlSource({ html }: { html: string }) {
  const highlight = html.length <= HIGHLIGHT_LIMIT;
  const shown = html.length > SOURCE_DISPLAY_LIMIT ? html.slice(0, SOURCE_DISPLAY_LIMIT) : html;
  const [lines, setLines] = useState<SourceRun[][] | null>(() => (highlight ? null : plainLines(shown)));
  const [failed, setFailed] = useState<string | null>(null);

  useEffect(() => {
    if (!highlight) return;
    let current = true;
    import('./highlight-html.js').then(
      ({ highlightHtml }) => current && setLines(highlightHtml(shown)),
      (err: Error) => {
        if (!current) return;
        setFailed(err.message);
        setLines(plainLines(shown));
      },
    );
    return () => {
      current = false;
    };
  }, [shown, highlight]);

  return (
    <div class="html-source">
      {!highlight && (
        <p class="notice">
          This HTML is over {formatSize(HIGHLIGHT_LIMIT)}, so it is shown without syntax colours
          {shown.length < html.length && `; only its first ${formatSize(SOURCE_DISPLAY_LIMIT)} are shown (download the .eml for all of it)`}.
        </p>
      )}
      {failed && <p class="notice">The highlighter could not be loaded ({failed}); the source is shown without colours.</p>}
      {lines ? (
        <ol class="source-lines" aria-label="HTML source" data-highlighted={highlight && !failed ? 'true' : 'false'}>
          {lines.map((runs, i) => (
            <li key={i}>
              <code>
                {runs.map((run, j) => (run.className ? <span key={j} class={run.className}>{run.text}</span> : run.text))}
              </code>
            </li>
          ))}
        </ol>
      ) : (
        <p class="loading">Loading the highlighter…</p>
      )}
    </div>
  );
}
