/**
 * Worker-thread entry: parses messages so that mailparser never runs on the thread that serves
 * SMTP and HTTP. One request at a time; the pool enforces the time limit by terminating us.
 */
import { parentPort } from 'node:worker_threads';
import { messageHeaderExceeded, mimeLimitExceeded } from '../mail/mime-limits.js';
import { extractPart, parseMessage, parseSkeleton, partChecksums, type ExtractedPart, type PartChecksums } from '../mail/parse.js';
import type { ParsedMessage } from '../mail/types.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

// mailparser ends already-finished streams on every message, and Node builds an error with a
// captured stack each time (5% of parse time). Nothing here reads stacks: skip capturing them.
Error.stackTraceLimit = 0;

const port = parentPort;
if (!port) throw new Error('parse worker must run in a worker thread');

/** The structure limits first (a message over them is not parsed at all), then the parsers. */
async function parse(request: Extract<WorkerRequest, { kind: 'parse' }>): Promise<ParsedMessage> {
  const bytes = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength);
  const over = mimeLimitExceeded(bytes, request.limits);
  if (over) throw new Error(over);
  const options = { maxParts: request.limits.maxParts, maxHeaderBytes: request.limits.maxHeaderBytes };
  return request.sizes ? parseSkeleton({ bytes, sizes: new Map(request.sizes) }, options) : parseMessage(bytes, options);
}

/**
 * The same limits as parsing: a message kept raw for crossing one would make mailparser fail or
 * run out its time here too, and the reason is worth more to the client than that failure.
 */
function withinLimits(request: Extract<WorkerRequest, { kind: 'part' | 'checksums' }>): Buffer {
  const bytes = Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength);
  const over = messageHeaderExceeded(bytes, request.limits) ?? mimeLimitExceeded(bytes, request.limits);
  if (over) throw new Error(over);
  return bytes;
}

async function part(request: Extract<WorkerRequest, { kind: 'part' | 'checksums' }>): Promise<ExtractedPart | null> {
  return extractPart(withinLimits(request), request.partId);
}

/** Hashed here as the part streams out of the parser, so only the digests travel back. */
async function checksums(request: Extract<WorkerRequest, { kind: 'part' | 'checksums' }>): Promise<PartChecksums | null> {
  return partChecksums(withinLimits(request), request.partId);
}

function answer(request: WorkerRequest): Promise<WorkerReply> {
  switch (request.kind) {
    case 'parse':
      return parse(request).then((message) => ({ jobId: request.jobId, ok: true, kind: 'parse', message }));
    case 'part':
      return part(request).then((part) => ({ jobId: request.jobId, ok: true, kind: 'part', part }));
    case 'checksums':
      return checksums(request).then((checksums) => ({ jobId: request.jobId, ok: true, kind: 'checksums', checksums }));
  }
}

port.on('message', (request: WorkerRequest) => {
  answer(request)
    .catch((err: unknown): WorkerReply => ({
      jobId: request.jobId,
      ok: false,
      error: err instanceof Error ? err.message : String(err),
    }))
    .then((reply) => port.postMessage(reply));
});
