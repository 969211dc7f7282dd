/**
 * Command-line parsing: argv → what to do. No defaults live here (they are in config.ts), and
 * nothing here exits the process (main.ts does).
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { KotakError } from './errors.js';
import { SETTINGS, type RawSettings } from './config.js';

export type CliCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'serve'; readonly settings: RawSettings }
  /** sendmail's own arguments, parsed by src/sendmail. */
  | { readonly kind: 'sendmail'; readonly args: readonly string[] }
  /** migrate-db's own arguments, parsed by src/migrate-db. */
  | { readonly kind: 'migrate-db'; readonly args: readonly string[] };

/**
 * `invokedAs` is the path the command was started through (process.argv[1]): through a link
 * named `sendmail`, Kotak is sendmail, so `sendmail_path = /usr/local/bin/sendmail -t -i` works.
 */
export function parseCommandLine(argv: readonly string[], invokedAs = 'kotak'): CliCommand {
  // Before parseArgs: sendmail's syntax (-t, -oi, -fuser@x) is not ours and would be refused.
  if (basename(invokedAs) === 'sendmail') return { kind: 'sendmail', args: argv };
  if (argv[0] === 'sendmail') return { kind: 'sendmail', args: argv.slice(1) };
  if (argv[0] === 'migrate-db') return { kind: 'migrate-db', args: argv.slice(1) };
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' },
  };
  // A repeated list flag collects every value; any other flag repeated keeps its last value, as
  // Go's flag package (Mailpit, MailHog) and most CLIs do, so a wrapper script can append an override.
  for (const s of SETTINGS) options[s.flag] = { type: 'boolean' in s && s.boolean ? 'boolean' : 'string', multiple: 'list' in s && s.list };
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new KotakError('invalid_config', (err as Error).message.split(/\n|\. To specify/)[0]!);
  }
  if (parsed.values.help) return { kind: 'help' };
  if (parsed.values.version) return { kind: 'version' };
  const [command, ...extra] = parsed.positionals;
  if (command === 'help') return { kind: 'help' };
  if (command !== undefined && command !== 'serve') throw new KotakError('invalid_config', `unknown command "${command}" (known: serve, sendmail, migrate-db, help)`);
  if (extra.length) throw new KotakError('invalid_config', `unexpected argument "${extra[0]}"`);
  const settings: RawSettings = {};
  for (const s of SETTINGS) {
    const value = parsed.values[s.flag];
    if (value !== undefined) settings[s.key] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return { kind: 'serve', settings };
}
