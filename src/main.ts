/** Process entry: parse the command line, start Kotak, stop it on a signal. The only file that exits. */
import { parseCommandLine } from './cli.js';
import { resolveConfig } from './config.js';
import type { RunningKotak } from './app.js';
import { isKotakError } from './errors.js';
import { helpText, helpWidth } from './help.js';
import { startLine } from './start-line.js';
import { VERSION } from './version.js';

async function main(): Promise<void> {
  let command;
  try {
    command = parseCommandLine(process.argv.slice(2), process.argv[1]);
  } catch (err) {
    exitWithUsageError(err);
  }
  if (command.kind === 'sendmail') {
    // Loaded instead of the server (about 1 s of imports): PHP's mail() starts sendmail for every message.
    const { runSendmail } = await import('./sendmail/index.js');
    const { stdin, stdout, stderr, env } = process;
    process.exit(await runSendmail(command.args, { stdin, stdout, stderr, env }));
  }
  if (command.kind === 'migrate-db') {
    // One copy and exit: none of the server's modules are needed.
    const { runMigrateDb } = await import('./migrate-db/index.js');
    process.exit(await runMigrateDb(command.args, { stdout: process.stdout, stderr: process.stderr }));
  }
  if (command.kind === 'help') return void process.stdout.write(`${helpText(VERSION, helpWidth(process.stdout, process.env))}\n`);
  if (command.kind === 'version') return void process.stdout.write(`${VERSION}\n`);

  let config;
  try {
    config = resolveConfig(command.settings, process.env);
  } catch (err) {
    exitWithUsageError(err);
  }

  // Handlers first: "kotak listening" is logged inside startApp, and a supervisor (or a test) that
  // sends SIGTERM as soon as it reads that line must get a clean stop, not the default death.
  let kotak: RunningKotak | null = null;
  let signal: NodeJS.Signals | null = null;
  const stopAndExit = (running: RunningKotak, reason: NodeJS.Signals): void => {
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`kotak: error while stopping after ${reason}: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  const shutdown = (received: NodeJS.Signals): void => {
    if (signal) process.exit(1); // a second signal: stop waiting
    signal = received;
    if (kotak) stopAndExit(kotak, received); // else: still starting; stopped as soon as it has started
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    // The server's modules are loaded only when they are needed, for the reason above.
    const { startApp } = await import('./app.js');
    kotak = await startApp(config);
  } catch (err) {
    process.stderr.write(`kotak: could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (signal) return stopAndExit(kotak, signal);
  // For a person at a terminal; piped or redirected output stays JSON lines only.
  if (process.stdout.isTTY) process.stdout.write(startLine(VERSION, config, kotak));
}

function exitWithUsageError(err: unknown): never {
  process.stderr.write(`kotak: ${isKotakError(err) ? err.message : String(err)}\n`);
  process.exit(2);
}

void main();
