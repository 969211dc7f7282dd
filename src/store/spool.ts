/**
 * Spool files: the DATA of a large message written to disk as it arrives, so that it is never held
 * whole in memory. They live in the raw-file directory (the same file system), and at commit the
 * store links each copy's raw file to the spool file (raw-files.ts `adopt`): the bytes are written
 * once, by the intake, and never read back to be stored.
 *
 * Whoever created a spool file removes it once the message is stored or refused (the raw files
 * linked to it keep the bytes). A process that dies mid-spool leaves it behind; the store removes
 * every spool file when it opens (`sweep`), since only the process holding the database's lock
 * writes them and that is the one opening it.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { SpooledRaw } from '../mail/types.js';

/** Spool file names: never a message id (ids have no '-'), so the raw-file sweep leaves them alone. */
const SPOOL_NAME = /^spool-[0-9a-f]{32}$/;
/**
 * Bytes a spool file buffers in memory before the sender is paused (TCP backpressure). Every
 * session receiving a large message may hold this much: at 1 MB, 50 sessions of 1 MB texts peaked
 * ~50 MB higher (bench/ingest.ts --sizes 1m --conns 50 --smtp-source: 400–407 against 345–355 MB);
 * the disk takes 128 KB writes as fast.
 */
const SPOOL_WRITE_AHEAD_BYTES = 128 * 1024;

export interface SpoolWriter {
  /** Appends; false when the caller should wait for `onDrain` before writing more. */
  write(chunk: Buffer): boolean;
  onDrain(resume: () => void): void;
  /** Flushes and closes the file; resolves with it. Rejects when any write failed. */
  finish(): Promise<SpooledRaw>;
  /** Stops writing and removes the file, finished or not; never rejects. */
  discard(): Promise<void>;
}

export interface Spool {
  /** A message reaching this many bytes is spooled: it would be kept in a raw file anyway. */
  readonly minBytes: number;
  create(): Promise<SpoolWriter>;
  /** Removes every spool file in the directory; returns how many went. Only when none is in use. */
  sweep(): Promise<number>;
}

export function openSpool(dir: string, minBytes: number): Spool {
  return {
    minBytes,
    async create() {
      // As raw-files.ts: made with the first large message, checked every time.
      await mkdir(dir, { recursive: true });
      return spoolWriter(path.join(dir, `spool-${randomBytes(16).toString('hex')}`));
    },
    async sweep() {
      const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [];
        throw err;
      });
      let removed = 0;
      for (const name of names.filter((n) => SPOOL_NAME.test(n))) {
        try {
          await unlink(path.join(dir, name));
          removed++;
        } catch {
          // Gone already, or not a file: nothing to sweep.
        }
      }
      return removed;
    },
  };
}

function spoolWriter(file: string): SpoolWriter {
  // 'wx': a fresh random name; an existing file means something else is there, not to be overwritten.
  const out: WriteStream = createWriteStream(file, { flags: 'wx', highWaterMark: SPOOL_WRITE_AHEAD_BYTES });
  let size = 0;
  let failure: Error | null = null;
  const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
  out.on('error', (err) => {
    failure ??= err;
  });
  let discarded: Promise<void> | null = null;
  return {
    write(chunk) {
      if (failure || out.destroyed) return true;
      size += chunk.length;
      return out.write(chunk);
    },
    onDrain(resume) {
      // A failed stream never drains: the caller goes on reading (and dropping) the rest.
      if (failure || out.destroyed) return resume();
      const done = (): void => {
        out.off('drain', done);
        out.off('close', done);
        resume();
      };
      out.once('drain', done);
      out.once('close', done);
    },
    async finish() {
      if (!failure && !out.destroyed) out.end();
      await closed;
      if (failure) throw failure;
      return { path: file, size };
    },
    discard() {
      discarded ??= (async () => {
        // Closed (and so created, if it ever will be) before the name is removed: unlinking
        // before the open completes would leave the file behind.
        if (!out.destroyed) out.destroy();
        await closed;
        await unlink(file).catch(() => undefined);
      })();
      return discarded;
    },
  };
}
