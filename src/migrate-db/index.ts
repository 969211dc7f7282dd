/**
 * `kotak migrate-db --from kotak.db --to postgres://…`: the command around
 * store/pg/copy-from-sqlite.ts: its arguments, its progress and summary lines, its exit status
 * (0 done, 2 usage or configuration, 1 failure). main.ts exits with what this returns.
 */
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { isKotakError } from '../errors.js';
import { isPostgresUrl } from '../config.js';
import { redactUrl } from '../store/pg/connection.js';

export const MIGRATE_DB_HELP = `Usage: kotak migrate-db --from PATH --to postgres://USER:PASS@HOST:PORT/DB [--append] [--progress N]

Copies every message of a SQLite database (no Kotak may be running on it) into a PostgreSQL
database: ids, mailboxes, received times, envelopes, raw bytes, read state and tags, oldest first.
Relay jobs are not copied. Run it again to resume: messages already in the target are skipped.

  --from PATH      the SQLite database file (kotak.db)
  --to URL         the PostgreSQL database (postgres:// or postgresql://)
  --append         allow a target that already holds other messages (the copies come after them)
  --progress N     a progress line on stderr every N messages (default 1000)
`;

const DEFAULT_PROGRESS_EVERY = 1000;

export interface MigrateDbIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

type Parsed = { from: string; to: string; append: boolean; progressEvery: number } | { help: true };

function parse(args: readonly string[]): Parsed {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: { from: { type: 'string' }, to: { type: 'string' }, append: { type: 'boolean' }, progress: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return { help: true };
  if (positionals.length) throw new Error(`unexpected argument "${positionals[0]}"`);
  if (!values.from) throw new Error('--from PATH is needed (the SQLite database file)');
  if (!values.to) throw new Error('--to URL is needed (postgres://…)');
  // Said without the URL: a mistyped one may still hold a password.
  if (!isPostgresUrl(values.to)) throw new Error(`--to must be a postgres:// or postgresql:// URL, not ${redactUrl(values.to)}`);
  const progressEvery = values.progress === undefined ? DEFAULT_PROGRESS_EVERY : Number(values.progress);
  if (!Number.isInteger(progressEvery) || progressEvery < 1) throw new Error('--progress must be a whole number of messages, 1 or more');
  return { from: values.from, to: values.to, append: values.append === true, progressEvery };
}

export async function runMigrateDb(args: readonly string[], io: MigrateDbIo): Promise<number> {
  const { stdout, stderr } = io;
  let parsed: Parsed;
  try {
    parsed = parse(args);
  } catch (err) {
    // parseArgs quotes the argument it refused: never the --to value's password, since --to takes a value.
    stderr.write(`kotak migrate-db: ${(err as Error).message.split(/\n|\. To specify/)[0]}\n`);
    return 2;
  }
  if ('help' in parsed) {
    stdout.write(MIGRATE_DB_HELP);
    return 0;
  }
  const { from, to, append, progressEvery } = parsed;
  // Loaded here, not above, so that `--help` and usage errors answer without the stores' modules.
  const { copySqliteToPostgres, withoutSecret } = await import('../store/pg/copy-from-sqlite.js');
  // Warnings and errors of the stores as JSON lines on stderr; the store URL is logged redacted.
  const log = pino({ level: 'warn', base: { app: 'kotak' } }, stderr as unknown as pino.DestinationStream);
  stderr.write(`kotak migrate-db: copying ${from} into ${redactUrl(to)}\n`);
  try {
    const summary = await copySqliteToPostgres({
      from,
      to,
      append,
      progressEvery,
      log,
      onProgress: (p) => stderr.write(`kotak migrate-db: ${p.done} of ${p.total} messages (${p.copied} copied, ${p.skipped} skipped, ${p.bytes} bytes)\n`),
    });
    const seconds = (summary.elapsedMs / 1000).toFixed(1);
    stdout.write(`kotak migrate-db: done: ${summary.copied} copied, ${summary.skipped} skipped (already there), ${summary.bytes} bytes, ${seconds} s; relay jobs are not copied\n`);
    return 0;
  } catch (err) {
    const message = withoutSecret(err instanceof Error ? err.message : String(err), to);
    stderr.write(`kotak migrate-db: ${message}\n`);
    return isKotakError(err) && err.code === 'invalid_config' ? 2 : 1;
  }
}
