/**
 * highlight.js's HTML output read back into plain data: lines of text runs, each with the classes
 * of the spans around it. Pure and free of highlight.js itself, so the unit tests run it in Node.
 */

/** A run of source text and the highlight classes around it ('' for none). */
export interface SourceRun {
  readonly text: string;
  readonly className: string;
}

const ENTITIES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#x27;': "'", '&#39;': "'" };

/**
 * highlight.js's HTML is spans and escaped text only; it is read back into runs, split at line
 * breaks (a span across lines, such as a long comment, is split with it). Anything else in it
 * would be kept as text, never as markup.
 */
export function toLines(highlighted: string): SourceRun[][] {
  const lines: SourceRun[][] = [[]];
  const open: string[] = [];
  for (const token of highlighted.matchAll(/<span class="([^"]*)">|<\/span>|([^<]+)|</g)) {
    if (token[1] !== undefined) open.push(token[1]);
    else if (token[0] === '</span>') open.pop();
    else {
      const text = token[0].replace(/&(?:amp|lt|gt|quot|#x27|#39);/g, (entity) => ENTITIES[entity]!);
      const className = open.join(' ');
      text.split('\n').forEach((piece, i) => {
        if (i > 0) lines.push([]);
        if (piece !== '') lines[lines.length - 1]!.push({ text: piece, className });
      });
    }
  }
  // The line break that ends the last line starts no line of its own.
  if (lines.length > 1 && lines[lines.length - 1]!.length === 0) lines.pop();
  return lines;
}
