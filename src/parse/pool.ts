/**
 * Parsing for intake. Small messages in common shapes are parsed right here with the bounded
 * fast parser; everything else goes to a small pool of worker threads (the fast parser again,
 * then mailparser), so a slow or hostile message can never block SMTP intake or the HTTP API.
 * Each worker job has a time limit: a worker that overruns it is terminated and replaced, and the
 * job fails with a reason (the message stays stored raw).
 */
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { KotakError } from '../errors.js';
import { FAST_PARSE_MAX_DEPTH, INLINE_LIMITS, parseSimpleMessage } from '../mail/fast-parse.js';
import { messageHeaderExceeded, mimeLimitExceeded, type MimeLimits } from '../mail/mime-limits.js';
import type { ExtractedPart, PartChecksums } from '../mail/parse.js';
import { stripAttachmentBodiesWithin, type Skeleton } from '../mail/skeleton.js';
import { stripAttachmentBodiesFromFile } from './skeleton-file.js';
import { turnstile } from './turnstile.js';
import type { ParsedMessage, ParseOutcome, SpooledRaw } from '../mail/types.js';
import { MAX_INDEXED_BODY_CHARS } from '../store/fts-indexer.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

export interface ParserPool {
  /** Never rejects: a failure or timeout is an outcome with the reason. */
  parse(raw: Buffer): Promise<ParseOutcome>;
  /**
   * The same for a message in a file (a spool file): read in one pass, not held whole, with large
   * text parts bounded (ParsedMessage.textCut).
   */
  parseFile(file: SpooledRaw): Promise<ParseOutcome>;
  /**
   * The decoded bytes of one attachment. Rejects with `message_unparsed` (and the reason) when the
   * message cannot be parsed: over a structure limit, or the parser failed or ran out of time.
   */
  extractPart(raw: Buffer, partId: string): Promise<ExtractedPart | null>;
  /** MD5, SHA-1 and SHA-256 of one attachment's decoded bytes (hashed in the worker); rejects as extractPart does. */
  partChecksums(raw: Buffer, partId: string): Promise<PartChecksums | null>;
  close(): Promise<void>;
}

/**
 * Messages up to this size in a shape the fast parser handles are parsed on the calling thread:
 * that takes ~0.1 ms, less than handing the message to a worker and back costs the SMTP thread.
 * INLINE_LIMITS bound the work for any input (about a millisecond at worst); anything beyond them,
 * or unusual, goes to the workers, which have a time limit.
 */
const INLINE_MAX_BYTES = 64 * 1024;
/** Up to this size, attachment bodies are stripped on the calling thread (a few ms at most). */
const STRIP_ON_THREAD_MAX_BYTES = 8 * 1024 * 1024;
/**
 * The most time stripping may take on the calling thread. Ordinary mail takes a few ms for 8 MB; a
 * hostile structure (100,000 nested multiparts, a short boundary among megabytes of dashes) would
 * take hundreds: past this, the whole message goes to a worker, which has its time limit.
 */
const STRIP_ON_THREAD_MAX_MS = 15;


/**
 * Memory for each worker: a hostile message that makes the parser balloon crashes its worker
 * (the message is kept raw and flagged) instead of the server; a small young generation keeps
 * the idle footprint of the workers low.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 8 };

/**
 * Whether the structure limits leave room for every message the fast parser accepts inline: it
 * declines more than INLINE_LIMITS.maxParts entities or FAST_PARSE_MAX_DEPTH levels, and an
 * inline message's header sections fit in its INLINE_MAX_BYTES. Then the separate limit pass
 * (~11 µs for 1 KB, a fifth of parsing it) is needed only for what the fast parser declines.
 * Lower limits (`--max-mime-parts 10`) are checked first, as always.
 */
function inlineParseWithinLimits(limits: MimeLimits): boolean {
  return limits.maxParts >= INLINE_LIMITS.maxParts && limits.maxDepth >= FAST_PARSE_MAX_DEPTH && limits.maxHeaderBytes >= INLINE_MAX_BYTES;
}

/**
 * A message parsed from a skeleton whose large text parts were cut: the text and HTML decoded from
 * them, up to MAX_INDEXED_BODY_CHARS characters each (past those lies whatever the cut broke).
 */
function boundedText(message: ParsedMessage): ParsedMessage {
  return { ...message, text: firstChars(message.text), html: firstChars(message.html), htmlText: firstChars(message.htmlText), textCut: true };
}

function firstChars(text: string | null): string | null {
  if (text === null || text.length <= MAX_INDEXED_BODY_CHARS) return text;
  // Not half of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(text[MAX_INDEXED_BODY_CHARS - 1]!) ? MAX_INDEXED_BODY_CHARS - 1 : MAX_INDEXED_BODY_CHARS;
  return text.slice(0, end);
}

export interface ParserPoolOptions {
  readonly size: number;
  readonly timeoutMs: number;
  /** --max-header-size, --max-mime-parts, --max-mime-depth: over them a message is kept raw and flagged. */
  readonly mimeLimits?: MimeLimits;
}

const DEFAULT_MIME_LIMITS: MimeLimits = { maxHeaderBytes: 100 * 1024, maxParts: 1000, maxDepth: 50 };

/** `transfer`: `raw` is ours alone, and goes to the worker without a copy (its buffer is detached here). */
type JobRequest = { kind: 'parse'; raw: Uint8Array; sizes?: [string, number][]; limits: MimeLimits; transfer?: boolean } | { kind: 'part' | 'checksums'; raw: Uint8Array; partId: string; limits: MimeLimits };

interface Job {
  readonly id: number;
  readonly request: JobRequest;
  readonly settle: (reply: WorkerReply) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  timer: NodeJS.Timeout | null;
}

/**
 * The worker always runs compiled JavaScript. When this file itself runs from source (vitest, tsx),
 * a TypeScript loader inside worker threads is unreliable on Node 20 and made each parse ~100x
 * slower, so the worker comes from dist/ (the test setup builds it first).
 */
const WORKER_URL = import.meta.url.endsWith('.ts')
  ? new URL('../../dist/parse/worker.js', import.meta.url)
  : new URL('./worker.js', import.meta.url);

export function createParserPool(options: ParserPoolOptions, deps: { log: Logger }): ParserPool {
  const { log } = deps;
  const mimeLimits = options.mimeLimits ?? DEFAULT_MIME_LIMITS;
  const queue: Job[] = [];
  const slots: Slot[] = [];
  let nextJobId = 1;
  let closed = false;

  function fail(job: Job, error: string): void {
    job.settle({ jobId: job.id, ok: false, error });
  }

  function spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_URL, { resourceLimits: WORKER_LIMITS }), job: null, timer: null };
    slot.worker.unref();
    slot.worker.on('message', (reply: WorkerReply) => {
      const job = slot.job;
      if (!job || job.id !== reply.jobId) return;
      finish(slot);
      job.settle(reply);
      dispatch();
    });
    slot.worker.on('error', (err) => {
      log.error({ err }, 'parse worker crashed');
      replace(slot, `parser crashed: ${err.message}`);
    });
    slot.worker.on('exit', (code) => {
      if (!closed && slots.includes(slot)) replace(slot, `parser exited with code ${code}`);
    });
    return slot;
  }

  function finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
  }

  /** Retire a worker (crashed or overran its limit), fail its job, and start a fresh one. */
  function replace(slot: Slot, reason: string): void {
    const index = slots.indexOf(slot);
    if (index < 0) return;
    const job = slot.job;
    finish(slot);
    slots.splice(index, 1);
    void slot.worker.terminate();
    if (job) fail(job, reason);
    dispatch();
  }

  /** Workers start when there is work for them (most small mail never needs one) and stay. */
  function dispatch(): void {
    while (queue.length > 0 && slots.length < Math.max(1, options.size) && slots.every((slot) => slot.job)) slots.push(spawn());
    for (const slot of slots) {
      if (slot.job) continue;
      const job = queue.shift();
      if (!job) return;
      slot.job = job;
      slot.timer = setTimeout(() => {
        log.warn({ jobId: job.id, timeoutMs: options.timeoutMs }, 'parse timed out; replacing worker');
        replace(slot, `parsing took longer than ${options.timeoutMs} ms and was stopped`);
      }, options.timeoutMs);
      // The raw bytes go over as their own buffer, transferred: a Buffer often shares a larger
      // pooled ArrayBuffer, which a plain postMessage would copy whole. A buffer that is ours
      // alone (a skeleton read from a file) goes as it is: a 49 MB text is not copied once more.
      const { transfer, ...request } = job.request as JobRequest & { transfer?: boolean };
      const raw = transfer ? job.request.raw : new Uint8Array(job.request.raw);
      slot.worker.postMessage({ jobId: job.id, ...request, raw } satisfies WorkerRequest, [raw.buffer as ArrayBuffer]);
    }
  }

  function submit(request: JobRequest): Promise<WorkerReply> {
    return new Promise((settle) => {
      if (closed) {
        settle({ jobId: 0, ok: false, error: 'parser pool is closed' });
        return;
      }
      queue.push({ id: nextJobId++, request, settle });
      dispatch();
    });
  }


  function parseInline(bytes: Buffer, strippedSizes: ReadonlyMap<string, number> | undefined): ParsedMessage | null {
    try {
      return parseSimpleMessage(bytes, INLINE_LIMITS, strippedSizes);
    } catch (err) {
      log.debug({ err }, 'fast parser failed; using a worker');
      return null;
    }
  }

  /**
   * Parses `raw`, or `skeleton` (its attachment bodies stripped) when there is one. `owned`: the
   * skeleton's memory is ours to hand to a worker (transferred, not copied).
   */
  async function parsePrepared(raw: Buffer, skeleton: Skeleton | null, owned: boolean): Promise<ParseOutcome> {
    const bytes = skeleton?.bytes ?? raw;
    if (bytes.length <= INLINE_MAX_BYTES) {
      // Limits that a message the fast parser accepts cannot cross: it is asked first.
      const fastFirst = inlineParseWithinLimits(mimeLimits);
      let message = fastFirst ? parseInline(bytes, skeleton?.sizes) : null;
      if (message) return { ok: true, message };
      // Linear in at most 64 KB (a skeleton has the structure of its message): cheap enough here.
      const over = mimeLimitExceeded(bytes, mimeLimits);
      if (over) return { ok: false, error: over };
      if (!fastFirst) message = parseInline(bytes, skeleton?.sizes);
      if (message) return { ok: true, message };
    }
    if (skeleton) {
      const textCut = skeleton.textCut === true;
      const reply = await submit({ kind: 'parse', raw: skeleton.bytes, sizes: [...skeleton.sizes], limits: mimeLimits, transfer: owned });
      if (!reply.ok || reply.kind !== 'parse') return { ok: false, error: reply.ok ? 'parser answered the wrong request' : reply.error };
      return { ok: true, message: textCut ? boundedText(reply.message) : reply.message };
    }
    const reply = await submit({ kind: 'parse', raw, limits: mimeLimits });
    if (!reply.ok) return { ok: false, error: reply.error };
    if (reply.kind !== 'parse') return { ok: false, error: 'parser answered the wrong request' };
    return { ok: true, message: reply.message };
  }

  const parse = async (raw: Buffer): Promise<ParseOutcome> => {
    // A header over the limit is known from its first bytes: nothing else is looked at.
    const headerOver = messageHeaderExceeded(raw, mimeLimits);
    if (headerOver) return { ok: false, error: headerOver };
    // Large messages are mostly attachment bodies, which parsing does not need: strip them here
    // (native searches, ~0.3 ms per MB) so that what is left is small enough to parse inline,
    // or at least cheap to hand to a worker.
    const skeleton = raw.length > INLINE_MAX_BYTES && raw.length <= STRIP_ON_THREAD_MAX_BYTES ? stripAttachmentBodiesWithin(raw, STRIP_ON_THREAD_MAX_MS) : null;
    return parsePrepared(raw, skeleton, false);
  };

  /**
   * Spooled messages read and parsed at once. Each holds a read buffer and a skeleton of up to its
   * size while it is read, and its skeleton while it waits for a worker: 50 sessions of 1 MB texts
   * ending together held ~50 MB that way (bench/ingest.ts --sizes 1m --conns 50 --smtp-source).
   * One more than the workers keeps the next file read while a worker parses.
   */
  const fileTurns = turnstile(Math.max(1, options.size) + 1);

  async function parseSpooled(file: SpooledRaw): Promise<ParseOutcome> {
    // Read in one pass with the attachment bodies left out, so the message is never held whole
    // (skeleton-file.ts); what that reader cannot decide is read whole, as before.
    let skeleton: Skeleton | null;
    try {
      skeleton = await stripAttachmentBodiesFromFile(file.path, file.size, { boundText: true });
    } catch (err) {
      return { ok: false, error: `the message could not be read: ${(err as Error).message}` };
    }
    if (!skeleton) return parse(await readFile(file.path));
    // The skeleton keeps every header section as it was.
    const headerOver = messageHeaderExceeded(skeleton.bytes, mimeLimits);
    if (headerOver) return { ok: false, error: headerOver };
    return parsePrepared(skeleton.bytes, skeleton, true);
  }

  return {
    parse,
    async parseFile(file) {
      await fileTurns.take();
      try {
        return await parseSpooled(file);
      } finally {
        fileTurns.give();
      }
    },
    async extractPart(raw, partId) {
      const reply = await submit({ kind: 'part', raw, partId, limits: mimeLimits });
      if (!reply.ok && closed) throw new KotakError('shutting_down', 'Kotak is stopping');
      if (!reply.ok) throw new KotakError('message_unparsed', `the message's parts cannot be read: ${reply.error}`);
      if (reply.kind !== 'part' || !reply.part) return null;
      const { content } = reply.part;
      // Structured clone delivers a Uint8Array; callers expect a Buffer over the same memory.
      return { ...reply.part, content: Buffer.from(content.buffer, content.byteOffset, content.byteLength) };
    },
    async partChecksums(raw, partId) {
      const reply = await submit({ kind: 'checksums', raw, partId, limits: mimeLimits });
      if (!reply.ok && closed) throw new KotakError('shutting_down', 'Kotak is stopping');
      if (!reply.ok) throw new KotakError('message_unparsed', `the message's parts cannot be read: ${reply.error}`);
      return reply.kind === 'checksums' ? reply.checksums : null;
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) fail(job, 'parser pool is closed');
      const workers = slots.splice(0);
      for (const slot of workers) if (slot.job) fail(slot.job, 'parser pool is closed');
      await Promise.all(workers.map((slot) => slot.worker.terminate()));
    },
  };
}
