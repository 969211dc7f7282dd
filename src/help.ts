/**
 * `kotak --help`: the settings table rendered for a person, grouped by section and wrapped to the
 * terminal's width. Pure (width in, text out), so the layout is tested without a terminal.
 */
import { envName, SETTINGS, type SettingSection } from './config.js';

/** Sections in the order a newcomer needs them, with their headings. */
const SECTIONS: readonly (readonly [SettingSection, string])[] = [
  ['smtp', 'SMTP'],
  ['http', 'HTTP: web inbox, API and WebSockets'],
  ['storage', 'Storage'],
  ['mailboxes', 'Mailboxes: routing mail at intake'],
  ['tags', 'Tags: tagging mail at intake'],
  ['pop3', 'POP3 (off unless --pop3 is given)'],
  ['imap', 'IMAP (off unless --imap is given)'],
  ['relay', 'Relay: real delivery (off unless --relay-allow is given)'],
  ['checks', 'Message checks (run on request, never while mail arrives)'],
  ['chaos', 'Chaos: faults for testing your app\'s retry paths (none unless a rule is set)'],
  ['limits', 'Limits'],
  ['general', 'Logging and process'],
  ['metrics', 'Metrics: GET /metrics for Prometheus'],
  ['webhooks', 'Webhooks (off unless --webhook is given)'],
];

/** Below this the layout stops making sense; narrower requests are laid out at this width. */
const MIN_WIDTH = 30;
/** Keeps a no-break space inside a unit that wrapping must not split, e.g. "[default: 5m]". */
const GLUE = '\u00a0';

/** Words of `text` in lines of at most `width` characters; a word longer than a line is cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/ +/).filter(Boolean)) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => l.replaceAll(GLUE, ' '));
}

function indented(text: string, indent: number, width: number): string[] {
  return wrap(text, width - indent).map((l) => ' '.repeat(indent) + l);
}

/** One option: the flag (and its value) on the left, description, default and variable on the right. */
function optionLines(left: string, paragraphs: readonly string[], column: number, width: number): string[] {
  const right = paragraphs.flatMap((p) => indented(p, column, width));
  if (left.length < column - 1) return [left.padEnd(column) + right[0]!.slice(column), ...right.slice(1)];
  return [...indented(left.trim(), 2, width), ...right];
}

export function helpText(version: string, requestedWidth: number): string {
  const width = Math.max(MIN_WIDTH, Math.floor(requestedWidth));
  const column = Math.max(12, Math.min(34, Math.floor(width * 0.4)));
  const prose = (text: string): string[] => wrap(text, width);
  const out: string[] = [
    ...prose(`Kotak ${version}: catches every email your app sends over SMTP and shows it in a web inbox and an API.`),
    '',
    'Usage:',
    ...indented('kotak [serve] [options]', 2, width),
    ...indented('kotak sendmail [sendmail options] [recipient...] (also run as a link named sendmail; see the README)', 2, width),
    ...indented('kotak migrate-db --from PATH --to postgres://… [--append]: copy a SQLite database into PostgreSQL (kotak migrate-db --help)', 2, width),
    ...indented('kotak help, kotak --help, kotak -h: this text', 2, width),
    ...indented('kotak --version: the version', 2, width),
    '',
    ...prose('Every option can also be set by its KOTAK_* environment variable; a flag wins over the environment. A list option takes several values separated by commas, or the flag repeated; its variable takes the comma form. Any other flag given twice keeps its last value.'),
  ];
  for (const [section, heading] of SECTIONS) {
    const settings = SETTINGS.filter((s) => s.section === section);
    if (settings.length === 0) continue;
    out.push('', ...prose(`${heading}:`));
    for (const s of settings) {
      const left = `  --${s.flag}${s.value ? ` ${s.value}` : ''}`;
      const defaultText = s.fallback === null || ('boolean' in s && s.boolean) ? [] : [`[default:${GLUE}${s.fallback.replaceAll(' ', GLUE)}]`];
      const repeat = 'list' in s && s.list ? ['(repeatable)'] : [];
      // "env NAME" stays on one line when the column is wide enough for it.
      const env = `env${`env ${envName(s.flag)}`.length <= width - column ? GLUE : ' '}${envName(s.flag)}`;
      out.push(...optionLines(left, [s.help, [...repeat, ...defaultText, env].join(' ')], column, width));
    }
  }
  return out.join('\n');
}

/** The width to lay help out at: the terminal's, else $COLUMNS, else 80. */
export function helpWidth(stdout: { isTTY?: boolean; columns?: number }, env: NodeJS.ProcessEnv): number {
  if (stdout.isTTY && stdout.columns) return stdout.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 80;
}
