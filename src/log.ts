/** Kotak's logger: pino, as JSON lines for machines (pipes, files, containers) or pretty for a person at a terminal. */
import pino, { type DestinationStream, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogFormat, LogLevel } from './config.js';

export interface ConsoleOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** auto means pretty on a terminal and JSON anywhere else, so `kotak | jq` and log shippers get JSON. */
export function prettyLogs(format: LogFormat, stdout: ConsoleOutput): boolean {
  return format === 'pretty' || (format === 'auto' && stdout.isTTY === true);
}

export function createLogger(settings: { readonly logLevel: LogLevel; readonly logFormat: LogFormat }, stdout: ConsoleOutput = process.stdout): Logger {
  const options = { level: settings.logLevel, base: { app: 'kotak' } };
  if (!prettyLogs(settings.logFormat, stdout)) return pino(options);
  // Formatted in the calling thread and written at once (stdout writes to a terminal, pipe or file
  // are synchronous on Linux): no worker thread, and no line lost when main.ts exits right after.
  const pretty = prettyFactory({ ignore: 'app', singleLine: true, translateTime: 'SYS:HH:MM:ss.l', colorize: stdout.isTTY === true && !process.env.NO_COLOR });
  const destination: DestinationStream = { write: (line: string) => void stdout.write(pretty(line)) };
  return pino(options, destination);
}
