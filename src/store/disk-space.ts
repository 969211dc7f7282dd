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
   * Asks the filesystem every time (one statfs, ~35 µs; concurrent callers share one), so a disk
   * filled by someone else is noticed at the next message. Puts the reserve back once there is
   * room for it again.
   */
  hasRoom(): Promise<boolean>;
  /** Gives up the reserve (for a delete that met a full disk); false when there was none. */
  releaseReserve(): Promise<boolean>;
}

/** For `:memory:` and `--min-free-disk 0`. */
export const UNLIMITED_DISK_SPACE: DiskSpace = { hasRoom: async () => true, releaseReserve: async () => false };

export interface DiskSpaceOptions {
  /** A directory on the filesystem to watch (the database's). */
  readonly directory: string;
  /** Where the reserve file lives (`<db>.reserve`). */
  readonly reservePath: string;
  readonly minFreeBytes: number;
}

export async function openDiskSpace(options: DiskSpaceOptions, deps: { log: Logger }): Promise<DiskSpace> {
  const { directory, reservePath, minFreeBytes } = options;
  const { log } = deps;
  // Smaller than the minimum: the reserve comes out of the space kept free, never on top of a full disk.
  const reserveBytes = Math.min(minFreeBytes, MAX_RESERVE_BYTES);
  let reserved = await stat(reservePath).then((s) => s.size >= reserveBytes, () => false);
  let asking: Promise<boolean> | null = null;
  let restoring: Promise<void> | null = null;

  const freeBytes = async (): Promise<number> => {
    const fs = await statfs(directory);
    return fs.bavail * fs.bsize;
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
