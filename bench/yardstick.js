// What the benchmark's yardstick servers (bare-smtp-server.js, reference-server.js) share: the
// smtp-server options Kotak gives it, and the start and stop the benchmark expects of a server.
import { SMTPServer } from 'smtp-server';

/** Starts smtp-server on an ephemeral port with Kotak's options and `onData`; prints the line the benchmark waits for, in Kotak's log format. */
export function startYardstick(onData, onStop = (done) => done()) {
  const server = new SMTPServer({
    disabledCommands: ['AUTH', 'STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    size: 50 * 1024 * 1024,
    onData,
  });
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ level: 30, msg: 'kotak listening', smtpPort: server.server.address().port, httpPort: 0 })}\n`);
  });
  process.on('SIGTERM', () => server.close(() => onStop(() => process.exit(0))));
}
