/**
 * Free space on the database's filesystem: whether new mail still fits (`--min-free-disk`, as
 * Postfix's queue_minfree), and a reserve file beside the database that is given up when a
 * delete meets a full disk, so that deleting mail (which writes WAL frames first) always works.
 */
import { open, rm, stat, statfs } from 'node:fs/promises';
import type { Logger } from 'pino';

/** The reserve never grows past this: a slice of deletes needs a few MB of WAL, not more. */
const MAX_RESERVE_BYTES = 8 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024);

export interface DiskSpace {
  /**
   * False while the filesystem's free space is below the minimum: new mail is then refused.
   * Near the minimum it asks the filesystem every time (one statfs; concurrent callers share one),
   * so a disk filled by someone else is noticed at the next message; far above it, a reading up
   * to a second old answers (see FAR_ABOVE_MINIMUM_BYTES). Puts the reserve back once there is
   * room for it again.
   */
  hasRoom(): Promise<boolean>;
  /** Gives up the reserve (for a delete that met a full disk); false when there was none. */
  releaseReserve(): Promise<boolean>;
}

/**
 * A statfs per message (at MAIL, through the libuv pool the SQLite driver also uses) cost 5% or
 * more of Kotak's CPU at 1 KB × 10 connections (docs/PERFORMANCE.md) and a pool round trip
 * before every `250` to MAIL. With this
 * much free above the minimum, a reading FRESH_FOR_MS old answers instead: a second of mail cannot
 * use a GiB here, and should someone else fill the disk that fast, storing fails with `451` (the
 * message is not acknowledged, so nothing is lost) until the next reading refuses at MAIL.
 */
const FAR_ABOVE_MINIMUM_BYTES = 1024 * 1024 * 1024;
const FRESH_FOR_MS = 1000;

/** For `:memory:` and `--min-free-disk 0`. */
export const UNLIMITED_DISK_SPACE: DiskSpace = { hasRoom: async () => true, releaseReserve: async () => false };

export interface DiskSpaceOptions {
  /** A directory on the filesystem to watch (the database's). */
  readonly directory: string;
  /** Where the reserve file lives (`<db>.reserve`). */
  readonly reservePath: string;
  readonly minFreeBytes: number;
  /** Tests only: FAR_ABOVE_MINIMUM_BYTES and FRESH_FOR_MS, scaled to a small filesystem. */
  readonly reuseReading?: { readonly farAboveMinimumBytes: number; readonly freshForMs: number };
}

export async function openDiskSpace(options: DiskSpaceOptions, deps: { log: Logger }): Promise<DiskSpace> {
  const { directory, reservePath, minFreeBytes } = options;
  const { farAboveMinimumBytes, freshForMs } = options.reuseReading ?? { farAboveMinimumBytes: FAR_ABOVE_MINIMUM_BYTES, freshForMs: FRESH_FOR_MS };
  const { log } = deps;
  /** The last statfs: free bytes, and when (performance.now()). */
  let lastReading = { free: 0, at: -Infinity };
  // Smaller than the minimum: the reserve comes out of the space kept free, never on top of a full disk.
  const reserveBytes = Math.min(minFreeBytes, MAX_RESERVE_BYTES);
  let reserved = await stat(reservePath).then((s) => s.size >= reserveBytes, () => false);
  let asking: Promise<boolean> | null = null;
  let restoring: Promise<void> | null = null;

  const freeBytes = async (): Promise<number> => {
    const fs = await statfs(directory);
    const free = fs.bavail * fs.bsize;
    lastReading = { free, at: performance.now() };
    return free;
  };

  /** Written with real bytes (not a sparse file), so the space is truly held. */
  async function makeReserve(): Promise<void> {
    const file = await open(reservePath, 'w');
    try {
      for (let written = 0; written < reserveBytes; written += CHUNK.length) {
        await file.write(CHUNK, 0, Math.min(CHUNK.length, reserveBytes - written));
      }
      await file.sync();
    } catch (err) {
      await file.close().catch(() => undefined);
      await rm(reservePath, { force: true });
      throw err;
    }
    await file.close();
    reserved = true;
  }

  async function check(): Promise<boolean> {
    let free = await freeBytes();
    if (!reserved && reserveBytes > 0 && free >= minFreeBytes + reserveBytes && restoring === null) {
      restoring = makeReserve()
        .then(() => log.info({ path: reservePath, bytes: reserveBytes }, 'disk space reserve in place'))
        .catch((err: unknown) => log.warn({ err, path: reservePath }, 'could not make the disk space reserve'))
        .finally(() => (restoring = null));
      await restoring;
      free = await freeBytes();
    }
    return free >= minFreeBytes;
  }

  const space: DiskSpace = {
    hasRoom() {
      if (lastReading.free >= minFreeBytes + farAboveMinimumBytes && performance.now() - lastReading.at < freshForMs) return Promise.resolve(true);
      asking ??= check().finally(() => (asking = null));
      return asking;
    },
    async releaseReserve() {
      if (!reserved) return false;
      reserved = false;
      await rm(reservePath, { force: true });
      log.warn({ path: reservePath }, 'disk full: released the disk space reserve so that deleting can proceed');
      return true;
    },
  };
  if (!(await space.hasRoom())) log.warn({ directory, minFreeBytes }, 'free disk space is below --min-free-disk: new mail is refused (452 4.3.1) until there is room');
  return space;
}
