/** Process entry: parse the command line, start Kotak, stop it on a signal. The only file that exits. */
import { parseCommandLine } from './cli.js';
import { helpText, resolveConfig } from './config.js';
import { isKotakError } from './errors.js';

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
  if (command.kind === 'help') return void process.stdout.write(`${helpText()}\n`);
  // The server's modules are loaded only when they are needed, for the reason above.
  if (command.kind === 'version') return void process.stdout.write(`${(await import('./app.js')).VERSION}\n`);

  let config;
  try {
    config = resolveConfig(command.settings, process.env);
  } catch (err) {
    exitWithUsageError(err);
  }

  let kotak;
  try {
    const { startApp } = await import('./app.js');
    kotak = await startApp(config);
  } catch (err) {
    process.stderr.write(`kotak: could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }

  let signalled = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (signalled) process.exit(1); // a second signal: stop waiting
    signalled = true;
    kotak.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`kotak: error while stopping after ${signal}: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

function exitWithUsageError(err: unknown): never {
  process.stderr.write(`kotak: ${isKotakError(err) ? err.message : String(err)}\n`);
  process.exit(2);
}

void main();
