/**
 * GET /metrics on the PostgreSQL store: the database's size from pg_database_size, the relay
 * queue's depth from the PostgreSQL relay store, and counts from this node's own events.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { transport, withKotak } from '../helpers/kotak.js';
import { promtoolCheck, scrape } from '../helpers/metrics.js';
import { freePort } from '../helpers/free-port.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';

let server: RunningPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});

it('reads the database size and relay jobs of the PostgreSQL store, and counts what this node stored', async () => {
  const db = await server.createDatabase('metrics_pg');
  // Relay on, released by hand, through a loopback smarthost where nothing listens (no DNS, nothing
  // leaves the machine): the job is queued, tried, and deferred; it is counted in whichever status.
  const kotak = await withKotak({ db, relayAllow: '*@relay.test', relaySmarthost: `127.0.0.1:${await freePort()}`, relaySmarthostTls: 'off', relayRetry: '1h' });
  try {
    const info = await transport(kotak).sendMail({ from: 'app@x.test', to: 'out@relay.test', subject: 'pg', text: 'stored in PostgreSQL' });
    const id = /queued as (\S+)/.exec(info.response)![1]!;
    const { samples, body } = await scrape(kotak);
    expect(samples.get('kotak_messages_stored_total{mailbox="default"}')).toBe(1);
    // An empty PostgreSQL database is several megabytes.
    expect(samples.get('kotak_database_size_bytes')).toBeGreaterThan(1_000_000);
    expect(samples.get('kotak_relay_jobs{status="queued"}')).toBe(0);
    expect(await promtoolCheck(body)).toEqual({ code: 0, output: '' });
    expect((await fetch(`${kotak.url}/api/messages/${id}/release`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(202);
    const after = await scrape(kotak);
    const jobs = ['queued', 'sending', 'delivered', 'deferred', 'failed'].reduce((sum, status) => sum + (after.samples.get(`kotak_relay_jobs{status="${status}"}`) ?? 0), 0);
    expect(jobs).toBe(1);
  } finally {
    await kotak.stop();
  }
});
