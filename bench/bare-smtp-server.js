// The yardstick for bench/ingest.ts --baseline: smtp-server with the options Kotak gives it, which
// reads every message and throws it away. What it does on a machine is the most any SMTP sandbox
// built on smtp-server can do there; Kotak's figures are best read against it.
import { startYardstick } from './yardstick.js';

startYardstick((stream, _session, callback) => {
  stream.on('data', () => {});
  stream.on('end', () => callback(null, 'Ok: discarded'));
});
