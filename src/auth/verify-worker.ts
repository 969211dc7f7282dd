/**
 * Worker-thread entry of the password verifier (./verifier.ts): checks one password against one
 * hash at a time, so bcrypt's tens of milliseconds never run on the thread that serves clients.
 */
import { parentPort } from 'node:worker_threads';
import { matchesHash } from './hash-check.js';
import type { VerifyReply, VerifyRequest } from './verify-protocol.js';

const port = parentPort;
if (!port) throw new Error('the password verifier must run in a worker thread');

port.on('message', (request: VerifyRequest) => {
  let reply: VerifyReply;
  try {
    reply = { jobId: request.jobId, ok: true, matches: matchesHash(request.entry, request.password) };
  } catch (err) {
    // The reason only: never the password or the hash.
    reply = { jobId: request.jobId, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
