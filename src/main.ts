/** Process entry: parse the command line, start Kotak, stop it on a signal. The only file that exits. */
import { startApp, VERSION } from './app.js';
import { parseCommandLine } from './cli.js';
import { helpText, resolveConfig } from './config.js';
import { isKotakError } from './errors.js';

async function main(): Promise<void> {
  let command;
  let config;
  try {
    command = parseCommandLine(process.argv.slice(2));
    if (command.kind === 'help') return void process.stdout.write(`${helpText()}\n`);
    if (command.kind === 'version') return void process.stdout.write(`${VERSION}\n`);
    config = resolveConfig(command.settings, process.env);
  } catch (err) {
    process.stderr.write(`kotak: ${isKotakError(err) ? err.message : String(err)}\n`);
    process.exit(2);
  }

  let kotak;
  try {
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

void main();
