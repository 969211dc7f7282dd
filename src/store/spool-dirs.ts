/**
 * The spool directories of nodes on PostgreSQL (issue 20): each Kotak process receives large
 * messages into a directory of its own in the system's temporary directory, named after its pid.
 * A process killed mid-receipt leaves its directory behind; the next Kotak to start on the machine
 * removes those whose process is gone (SQLite's spool lives beside the database and is swept when
 * the store opens: store/spool.ts).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const PREFIX = 'kotak-spool-';
const NAME = /^kotak-spool-(\d+)-[A-Za-z0-9]+$/;

/** Whether a process with this pid is running (one of another user counts as running). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes this process's spool directory in `parent`. */
export function makeSpoolDir(parent: string): Promise<string> {
  return mkdtemp(join(parent, `${PREFIX}${process.pid}-`));
}

/** Removes the spool directories in `parent` of processes that are gone; returns how many. */
export async function sweepStaleSpoolDirs(parent: string): Promise<number> {
  let removed = 0;
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const pid = NAME.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || isRunning(Number(pid))) continue;
    await rm(join(parent, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
