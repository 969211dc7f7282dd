// Empties dist/ before a build: tsc never removes the output of a source file that was moved or
// deleted, and a stale file would be shipped by `npm pack` (and its source map would point at a
// source that no longer exists).
import { rmSync } from 'node:fs';

rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true });
