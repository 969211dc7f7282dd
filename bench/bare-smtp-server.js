// The yardstick for bench/ingest.ts --baseline: smtp-server with the options Kotak gives it, which
// reads every message and throws it away. What it does on a machine is the most any SMTP sandbox
// built on smtp-server can do there; Kotak's figures are best read against it. Prints the line
// the benchmark waits for, in Kotak's log format.
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  disabledCommands: ['AUTH', 'STARTTLS'],
  disableReverseLookup: true,
  logger: false,
  size: 50 * 1024 * 1024,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => callback(null, 'Ok: discarded'));
  },
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ level: 30, msg: 'kotak listening', smtpPort: server.server.address().port, httpPort: 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
