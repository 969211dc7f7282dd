/**
 * Where password hashes are checked: bcrypt and apr1 in a small pool of worker threads, SHA-1 and
 * plain on the calling thread (microseconds). A bcrypt check at cost 10 takes 70–250 ms of CPU;
 * on the thread that serves SMTP, POP3 and HTTP, 50 parallel guessers delayed a new client's
 * greeting by 10 s. In the pool they wait their turn without stopping anyone else.
 *
 * The waiting line is bounded: past `maxWaiting` checks waiting for a worker, a new one is refused
 * at once with `auth_unavailable` (SMTP 454 4.7.0, POP3 -ERR [SYS/TEMP], HTTP 503), so a flood of
 * guesses cannot queue work, and memory, without end, and a client learns to come back later
 * instead of waiting for minutes. Workers start with the first slow check and stay.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { KotakError } from '../errors.js';
import { isSlowScheme, matchesHash, type PasswordHash } from './hash-check.js';
import type { VerifyReply, VerifyRequest } from './verify-protocol.js';

export interface PasswordVerifier {
  /**
   * Whether `password` matches the hash. Rejects with a KotakError `auth_unavailable` when too many
   * checks are waiting or the verifier is closed: the caller answers "try again later".
   */
  matches(entry: PasswordHash, password: string): Promise<boolean>;
  /** Stops the workers; checks still waiting or running are refused as above. */
  close(): Promise<void>;
}

export interface PasswordVerifierOptions {
  /** Worker threads (default: 1 on a machine with 2 cores or fewer, else 2, leaving the rest to serving clients). */
  readonly workers?: number;
  /** Checks that may wait for a free worker; one more is refused (default 16: under 4 s of bcrypt at cost 10 here). */
  readonly maxWaiting?: number;
}

const DEFAULT_MAX_WAITING = 16;

/** bcryptjs needs a few MB; a small heap keeps each worker's footprint small. */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 4 };

/**
 * The worker always runs compiled JavaScript. When this file itself runs from source (vitest,
 * tsx), the worker comes from dist/ (the test setup builds it first), as the parser pool's does.
 */
const WORKER_URL = import.meta.url.endsWith('.ts')
  ? new URL('../../dist/auth/verify-worker.js', import.meta.url)
  : new URL('./verify-worker.js', import.meta.url);

interface Job {
  readonly request: VerifyRequest;
  readonly resolve: (matches: boolean) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  job: Job | null;
}

function unavailable(reason: string): KotakError {
  return new KotakError('auth_unavailable', reason);
}

function defaultVerifierWorkers(): number {
  return availableParallelism() <= 2 ? 1 : 2;
}

export function createPasswordVerifier(options: PasswordVerifierOptions, deps: { log: Logger }): PasswordVerifier {
  const { log } = deps;
  const size = Math.max(1, options.workers ?? defaultVerifierWorkers());
  const maxWaiting = Math.max(0, options.maxWaiting ?? DEFAULT_MAX_WAITING);
  const waiting: Job[] = [];
  const slots: Slot[] = [];
  let nextJobId = 1;
  let closed = false;

  function spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_URL, { resourceLimits: WORKER_LIMITS }), job: null };
    slot.worker.unref();
    slot.worker.on('message', (reply: VerifyReply) => {
      const job = slot.job;
      if (!job || job.request.jobId !== reply.jobId) return;
      slot.job = null;
      if (reply.ok) job.resolve(reply.matches);
      else job.reject(new KotakError('internal', `password check failed: ${reply.error}`));
      dispatch();
    });
    slot.worker.on('error', (err) => {
      log.error({ err }, 'password verifier worker crashed');
      retire(slot);
    });
    slot.worker.on('exit', (code) => {
      if (!closed && slots.includes(slot)) {
        log.error({ code }, 'password verifier worker exited');
        retire(slot);
      }
    });
    return slot;
  }

  /** A worker that crashed: its check is refused (temporarily), and the next check starts a new one. */
  function retire(slot: Slot): void {
    const index = slots.indexOf(slot);
    if (index < 0) return;
    slots.splice(index, 1);
    void slot.worker.terminate();
    slot.job?.reject(unavailable('the password check failed to run, try again later'));
    slot.job = null;
    dispatch();
  }

  function dispatch(): void {
    while (waiting.length > 0 && slots.length < size && slots.every((slot) => slot.job)) slots.push(spawn());
    for (const slot of slots) {
      if (slot.job) continue;
      const job = waiting.shift();
      if (!job) return;
      slot.job = job;
      slot.worker.postMessage(job.request);
    }
  }

  return {
    async matches(entry, password) {
      if (!isSlowScheme(entry.scheme)) return matchesHash(entry, password);
      if (closed) throw unavailable('the server is stopping');
      // Refused before anything is queued: the count of those waiting is the whole bound.
      if (waiting.length >= maxWaiting && slots.length >= size && slots.every((slot) => slot.job)) {
        throw unavailable('too many password checks waiting, try again later');
      }
      return new Promise<boolean>((resolve, reject) => {
        waiting.push({ request: { jobId: nextJobId++, entry, password }, resolve, reject });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const job of waiting.splice(0)) job.reject(unavailable('the server is stopping'));
      const workers = slots.splice(0);
      for (const slot of workers) slot.job?.reject(unavailable('the server is stopping'));
      await Promise.all(workers.map((slot) => slot.worker.terminate()));
    },
  };
}
