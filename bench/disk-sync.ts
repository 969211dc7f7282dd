/**
 * What a synced write costs on this machine's disk, by size: the floor under every commit, since
 * Kotak syncs before each 250 (the SQLite WAL, and the file of a large raw message).
 *
 *   tsx bench/disk-sync.ts [--dir /path/on/the/data/disk]
 *
 * Writes blocks of 4 KB to 1 MB into a preallocated file in os.tmpdir() (or --dir), each followed
 * by fdatasync, and prints the mean time per write + sync and the bandwidth it implies. If the
 * time grows with the size, syncing is bandwidth-bound: every byte a commit writes costs.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { dir: { type: 'string', default: os.tmpdir() } } });
const dir = mkdtempSync(path.join(values.dir, 'kotak-disk-sync-'));
const file = path.join(dir, 'sync.bin');
const REGION = 64 * 1024 * 1024;
const ROUNDS = 200;

try {
  const fd = openSync(file, 'w');
  // Preallocated and synced first, so the timed writes overwrite blocks (as a reused WAL does).
  writeSync(fd, Buffer.alloc(REGION));
  fdatasyncSync(fd);
  process.stdout.write(`write + fdatasync in ${dir}, ${ROUNDS} rounds per size\n`);
  for (const kb of [4, 16, 64, 256, 1024]) {
    const block = Buffer.alloc(kb * 1024, 0x5a);
    let position = 0;
    const started = performance.now();
    for (let i = 0; i < ROUNDS; i++) {
      writeSync(fd, block, 0, block.length, position);
      fdatasyncSync(fd);
      position = (position + block.length) % (REGION - block.length);
    }
    const ms = (performance.now() - started) / ROUNDS;
    process.stdout.write(`${String(kb).padStart(5)} KB: ${ms.toFixed(3)} ms per write + sync, ${((kb / 1024) / (ms / 1000)).toFixed(0)} MB/s\n`);
  }
  closeSync(fd);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
