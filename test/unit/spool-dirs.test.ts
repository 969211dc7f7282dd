/** Spool directories of PostgreSQL nodes: a process killed mid-receipt leaves one; the next start removes it. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSpoolDir, sweepStaleSpoolDirs } from '../../src/store/spool-dirs.js';

const parent = mkdtempSync(join(tmpdir(), 'kotak-spool-dirs-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('spool directories', () => {
  it('removes those of processes that are gone, and keeps its own, running ones and other names', async () => {
    // A pid that surely ended: a child that has exited.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(gone.stdout);
    const stale = join(parent, `kotak-spool-${deadPid}-abc123`);
    mkdirSync(stale);
    writeFileSync(join(stale, 'spool-0123'), 'half a message');
    const mine = await makeSpoolDir(parent);
    const running = join(parent, 'kotak-spool-1-xyz789'); // pid 1 runs as long as the machine does
    mkdirSync(running);
    const other = join(parent, 'kotak-spool-notapid');
    mkdirSync(other);

    expect(await sweepStaleSpoolDirs(parent)).toBe(1);
    expect(existsSync(stale)).toBe(false);
    for (const kept of [mine, running, other]) expect(existsSync(kept)).toBe(true);
    expect(mine).toMatch(new RegExp(`kotak-spool-${process.pid}-`));
  });
});
