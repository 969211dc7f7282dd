/**
 * The build copies PostgreSQL's migration files into dist/ (scripts/copy-assets.js), where the
 * compiled store reads them, as it does SQLite's. dist/ is what the global setup just built.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url);

describe('the built package', () => {
  it('holds every PostgreSQL migration file, unchanged, under dist/store/pg/migrations', () => {
    const sources = readdirSync(new URL('src/store/pg/migrations/', ROOT)).filter((name) => name.endsWith('.sql'));
    expect(sources).toContain('002_relay.sql');
    for (const name of sources) {
      expect(readFileSync(new URL(`dist/store/pg/migrations/${name}`, ROOT), 'utf8'), name).toBe(readFileSync(new URL(`src/store/pg/migrations/${name}`, ROOT), 'utf8'));
    }
  });
});
