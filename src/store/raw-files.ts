/**
 * Large raw messages, kept as files beside the database instead of inside it.
 *
 * Why: in SQLite's WAL mode every byte of a blob reaches the disk twice, once in the WAL at
 * commit and once more when the checkpoint copies it into the database file, and both writes are
 * synced. For 1 MB messages that doubled write was what limited ingest (bench/ingest.ts, 1 MB ×
 * 10 connections, alternating runs on one machine: 90–96 msg/s with the raw bytes in SQLite,
 * 136–149 with them in files, and half the server's CPU). Small messages stay in SQLite, where a
 * file's own creation and sync cost more than they save (50 KB messages were ~15% slower as files).
 *
 * A file is written (and with `--durability full` synced, its directory entry included) before the
 * row that names it is committed, so a committed row always finds its complete file: after the
 * process dies, because the OS holds what was written; after power loss too when synced. What a crash can leave behind is
 * the opposite: a file whose row was never committed, or whose row was deleted just before. The
 * store sweeps those at startup, once they are old enough not to be another process's insert in
 * progress (store/sqlite.ts).
 */
import { link, mkdir, open, readdir, readFile, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface RawFiles {
  /** Creates the file `name` with `bytes`; resolves once written (with `sync`, once data and directory entry are on disk). */
  write(name: string, bytes: Buffer): Promise<void>;
  /**
   * Creates the file `name` as a hard link to the complete file at `source` (a spool file in this
   * directory, store/spool.ts): the same bytes, not copied. Resolves as `write` does.
   */
  adopt(name: string, source: string): Promise<void>;
  read(name: string): Promise<Buffer>;
  /** Removes the files; names already gone are not an error. */
  remove(names: readonly string[]): Promise<void>;
  /**
   * Removes every file named like a message id that `keep` rejects and that was last written
   * more than `minAgeMs` ago; returns how many went.
   */
  sweep(keep: (name: string) => boolean, minAgeMs: number): Promise<number>;
}

/** File names are message ids: letters and digits only, so no name can leave the directory. */
const SAFE_NAME = /^[0-9A-Za-z]{1,64}$/;

function checkName(name: string): string {
  if (!SAFE_NAME.test(name)) throw new Error(`"${name}" is not a raw file name`);
  return name;
}

export interface RawFilesOptions {
  /** fsync each file and its directory entry before write() resolves (`--durability full`); else written, not synced. */
  readonly sync: boolean;
}

export function openRawFiles(dir: string, options: RawFilesOptions): RawFiles {
  const file = (name: string): string => path.join(dir, checkName(name));
  const syncDirectory = options.sync ? coalescedDirectorySync(dir) : async () => undefined;
  return {
    async write(name, bytes) {
      // Made with the first large message, so a sandbox that never sees one has no extra
      // directory; checked every time in case it was removed. Under load this first call waits
      // ~20 ms for the file system, but without it the open waits as long (docs/PERFORMANCE.md).
      await mkdir(dir, { recursive: true });
      // 'wx': an id is never reused, so an existing file means something is wrong; do not overwrite it.
      const handle = await open(file(name), 'wx');
      try {
        try {
          await handle.writeFile(bytes);
          if (options.sync) await handle.datasync();
        } finally {
          await handle.close();
        }
        await syncDirectory();
      } catch (err) {
        // Not durable, so not kept: the message is refused, and its file must not outlive it.
        await unlink(file(name)).catch(() => undefined);
        throw err;
      }
    },

    async adopt(name, source) {
      const target = file(name);
      // link() never overwrites: as 'wx' above.
      await link(source, target);
      try {
        if (options.sync) {
          // The data of every link is the same inode's: the first copy's sync covers the others.
          const handle = await open(target, 'r');
          try {
            await handle.datasync();
          } finally {
            await handle.close();
          }
        }
        await syncDirectory();
      } catch (err) {
        await unlink(target).catch(() => undefined);
        throw err;
      }
    },

    read: (name) => readFile(file(name)),

    async remove(names) {
      await Promise.all(names.map((name) => unlink(file(name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      })));
    },

    async sweep(keep, minAgeMs) {
      // Names no message can have are not ours to judge, and stay.
      const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [];
        throw err;
      });
      const candidates = names.filter((name) => SAFE_NAME.test(name) && !keep(name));
      const cutoff = Date.now() - minAgeMs;
      let removed = 0;
      await Promise.all(
        candidates.map(async (name) => {
          try {
            if ((await stat(file(name))).mtimeMs > cutoff) return;
            await unlink(file(name));
            removed++;
          } catch {
            // Gone already, or not a file: nothing to sweep.
          }
        }),
      );
      return removed;
    },
  };
}

/**
 * A new file's name is durable only once its directory is synced. Concurrent writers share one
 * sync: each call resolves after a sync that started after the call, so no new entry is missed
 * and one fsync covers every file created meanwhile.
 */
function coalescedDirectorySync(dir: string): () => Promise<void> {
  let requested = 0;
  let running: Promise<void> | null = null;
  let done = 0;

  async function syncOnce(): Promise<void> {
    let handle: FileHandle | null = null;
    try {
      handle = await open(dir, 'r');
      await handle.sync();
    } catch (err) {
      // Where a directory cannot be opened or synced (Windows, some network file systems) the
      // file's own sync is all there is; any other failure means the entry may not be durable.
      if (!['EISDIR', 'EPERM', 'EINVAL', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    } finally {
      await handle?.close();
    }
  }

  async function drain(): Promise<void> {
    while (done < requested) {
      const target = requested;
      await syncOnce();
      done = target;
    }
  }

  return async function syncDirectory(): Promise<void> {
    const ticket = ++requested;
    while (done < ticket) {
      if (!running) running = drain().finally(() => (running = null));
      await running;
    }
  };
}
