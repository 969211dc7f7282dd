/**
 * Every message of the shared corpus (real mail from several parsers' test suites, including
 * broken and hostile ones) goes in over SMTP and must come back byte for byte, with a parsed view
 * or a parse error: never lost, never a crash.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw, wireForm } from '../helpers/smtp-client.js';

const CORPUS = new URL('../fixtures/corpus/', import.meta.url);
const files = readdirSync(CORPUS).filter((f) => f.endsWith('.eml')).sort();

describe('shared corpus', () => {
  let kotak: RunningKotak;
  beforeAll(async () => {
    kotak = await withKotak({ parseWorkers: 2 });
  });
  afterAll(() => kotak.stop());

  it('has messages to test with', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it.each(files)('%s is stored byte-identical and parsed or flagged', async (file) => {
    const raw = readFileSync(new URL(file, CORPUS));
    const reply = await sendRaw(kotak.smtpPort, raw);
    expect(reply.code, reply.text).toBe(250);
    const id = queuedId(reply);

    const stored = Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer());
    expect(stored.equals(wireForm(raw))).toBe(true);

    const { status, body } = await getJson(kotak, `/api/messages/${id}`);
    expect(status).toBe(200);
    expect(body.id).toBe(id);
    expect(body.size).toBe(wireForm(raw).length);
    if (body.parseError === undefined) {
      expect(Array.isArray(body.headers)).toBe(true);
      expect(typeof body.subject).toBe('string');
    } else {
      expect(body.parseError).toMatch(/\S/);
    }
  });
});
