/**
 * A search's total on GET /api/messages is counted only up to SEARCH_TOTAL_BOUND matches past the
 * end of the page (issue 19: a common word in a million messages cost more to count than to list).
 * Over real HTTP: exact below the bound, flagged (`totalIsLowerBound`) beyond it, growing with
 * `start`; exact without a query; and the compatible APIs, whose shapes promise an exact count
 * (Mailpit's messages_count, MailHog's total), still count every match.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore, SEARCH_TOTAL_BOUND } from '../../src/store/sqlite.js';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { mailboxMessage } from '../helpers/mailboxes.js';

/** More matches than one page and the bound together, so that the count stops. */
const BULK = SEARCH_TOTAL_BOUND + 200;
const RARE = 30;

interface Page {
  total: number;
  totalIsLowerBound: boolean;
  messages: { subject: string }[];
}

describe('a bounded total on GET /api/messages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kotak-bounded-total-'));
  let kotak: RunningKotak;

  beforeAll(async () => {
    const db = join(dir, 'kotak.db');
    const store = await openSqliteStore(db, { log: pino({ level: 'silent' }), syncCommits: false });
    try {
      const messages = [
        ...Array.from({ length: BULK }, (_, i) => mailboxMessage('default', `bulkword ${i}`)),
        ...Array.from({ length: RARE }, (_, i) => mailboxMessage('w2', `rareword ${i}`)),
      ];
      // In batches, as group commit takes them: one at a time would take a commit each.
      for (let i = 0; i < messages.length; i += 200) await Promise.all(messages.slice(i, i + 200).map((m) => store.insert(m)));
    } finally {
      await store.close();
    }
    kotak = await withKotak({ db });
  });
  afterAll(async () => {
    await kotak?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const page = async (path: string): Promise<Page> => {
    const { status, body } = await getJson<Page>(kotak, path);
    expect(status, JSON.stringify(body)).toBe(200);
    return body;
  };

  it('is exact below the bound', async () => {
    expect(await page('/api/messages?query=rareword&limit=10')).toMatchObject({ total: RARE, totalIsLowerBound: false });
    expect(await page('/api/messages?query=rareword%20mailbox:w2')).toMatchObject({ total: RARE, totalIsLowerBound: false });
    expect(await page('/api/messages?query=bulkword&mailbox=w2')).toMatchObject({ total: 0, totalIsLowerBound: false, messages: [] });
  });

  it('stops at the bound past the page, and says so', async () => {
    const first = await page('/api/messages?query=bulkword&limit=50');
    expect(first).toMatchObject({ total: 50 + SEARCH_TOTAL_BOUND, totalIsLowerBound: true });
    expect(first.messages.map((m) => m.subject)).toEqual(Array.from({ length: 50 }, (_, i) => `bulkword ${BULK - 1 - i}`));
    // Field operators and flags are bounded alike.
    expect(await page('/api/messages?query=subject:bulkword&limit=10')).toMatchObject({ total: 10 + SEARCH_TOTAL_BOUND, totalIsLowerBound: true });
    expect(await page('/api/messages?query=is:unread&limit=10')).toMatchObject({ total: 10 + SEARCH_TOTAL_BOUND, totalIsLowerBound: true });
  });

  it('counts further as the page goes deeper, and is exact once the bound reaches the end', async () => {
    expect(await page('/api/messages?query=bulkword&limit=50&start=100')).toMatchObject({ total: 150 + SEARCH_TOTAL_BOUND, totalIsLowerBound: true });
    const deep = await page('/api/messages?query=bulkword&limit=50&start=200');
    expect(deep).toMatchObject({ total: BULK, totalIsLowerBound: false });
    expect(deep.messages[0]!.subject).toBe(`bulkword ${BULK - 1 - 200}`);
  });

  it('answers a before: search read from the received_at index as the scan does, newest first', async () => {
    // mailboxMessage receives one message a second from 2026-01-01: the first 299 are before 00:05.
    const before = await page('/api/messages?query=before:2026-01-01T00:05:00Z&limit=5');
    expect(before).toMatchObject({ total: 299, totalIsLowerBound: false });
    expect(before.messages.map((m) => m.subject)).toEqual(['bulkword 298', 'bulkword 297', 'bulkword 296', 'bulkword 295', 'bulkword 294']);
    // The same question negated is answered by the scan.
    const scanned = await page('/api/messages?query=-after:2026-01-01T00:05:00Z&limit=5');
    expect(scanned).toEqual(before);
    const next = await page(`/api/messages?query=before:2026-01-01T00:05:00Z%20bulkword&limit=5&cursor=${(before as unknown as { nextCursor: string }).nextCursor}`);
    expect(next.messages.map((m) => m.subject)).toEqual(['bulkword 293', 'bulkword 292', 'bulkword 291', 'bulkword 290', 'bulkword 289']);
    expect(await page('/api/messages?query=before:2026-01-01T00:05:00Z&mailbox=w2')).toMatchObject({ total: 0, messages: [] });
  });

  it('is exact without a query (kept per mailbox, never counted)', async () => {
    expect(await page('/api/messages?limit=5')).toMatchObject({ total: BULK + RARE, totalIsLowerBound: false });
    expect(await page('/api/messages?mailbox=w2&limit=5')).toMatchObject({ total: RARE, totalIsLowerBound: false });
  });

  it('leaves the exact counts of the Mailpit and MailHog routes alone', async () => {
    const mailpit = await getJson<{ messages_count: number; messages_unread: number; count: number }>(kotak, '/api/v1/search?query=bulkword&limit=5');
    expect(mailpit.body).toMatchObject({ messages_count: BULK, messages_unread: BULK, count: 5 });
    const mailhog = await getJson<{ total: number }>(kotak, '/api/v2/search?kind=containing&query=bulkword&limit=5');
    expect(mailhog.body.total).toBe(BULK);
  });
});
