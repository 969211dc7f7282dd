/**
 * The rules table of a SpamAssassin report (its `_SUMMARY_`), read into rules. Pure. The table
 * follows a line of dashes; a row is points, rule name and description; a description too long
 * for one line goes on in lines indented to the description column, which are joined back. The
 * words around the table depend on the report template and language, so only the table is read.
 */

export interface SpamRule {
  readonly name: string;
  readonly score: number;
  readonly description: string;
}

const SEPARATOR = /^-{3,} +-{3,} +-{3,}\s*$/;
const ROW = /^\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z0-9_]+)(?:\s+(.*?))?\s*$/;
const CONTINUATION = /^\s{2,}\S/;

export function parseReportRules(report: string): SpamRule[] {
  const lines = report.split(/\r?\n/);
  const start = lines.findIndex((line) => SEPARATOR.test(line));
  if (start === -1) return [];
  const rules: { name: string; score: number; description: string }[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const row = ROW.exec(line);
    const last = rules.at(-1);
    if (row && !(last && /^\s{20,}/.test(line))) {
      rules.push({ name: row[2]!, score: Number(row[1]), description: row[3] ?? '' });
    } else if (last && CONTINUATION.test(line)) {
      last.description = `${last.description} ${line.trim()}`.trim();
    }
  }
  return rules;
}
