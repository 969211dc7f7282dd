/**
 * How long an event takes from one node to another through PostgreSQL (src/live/pg-events.ts):
 * from `message:stored` emitted on node A's local bus to the same summary heard on node B's
 * cluster bus, over loopback. That is A's NOTIFY, the server's delivery to B's listening session,
 * B re-reading the summary from the message store (here an in-memory SQLite store both nodes
 * share, as the stand-in for the shared database's messages) and B's emit.
 *
 *   tsx bench/cross-node.ts [--messages 2000] [--mode sequential|stream] [--rate 500] [--db postgres://…]
 *
 * `sequential`: each message is sent once the previous one has arrived (the delay alone).
 * `stream`: messages are sent without waiting for them to arrive, `--rate` a second (0: back to
 * back, as fast as the store takes them), which is the delay under load, batching included. Without --db a throwaway PostgreSQL is started (test/helpers/postgres.ts,
 * Debian's binaries). Prints p50/p90/p99/max in milliseconds. Times, not assertions.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import pg from 'pg';
import pino from 'pino';
import { createEventBus } from '../src/events.js';
import { createPgEventBridge } from '../src/live/pg-events.js';
import { newMessageId } from '../src/mail/id.js';
import type { NewMessage } from '../src/mail/types.js';
import { openSqliteStore } from '../src/store/sqlite.js';
import { startPostgres } from '../test/helpers/postgres.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '2000' }, mode: { type: 'string', default: 'sequential' }, rate: { type: 'string', default: '0' }, db: { type: 'string' } } });
const count = Number(values.messages);
const mode = values.mode === 'stream' ? 'stream' : 'sequential';
const rate = Number(values.rate);

function message(n: number): NewMessage {
  const at = Date.now();
  return {
    id: newMessageId(at),
    mailbox: 'default',
    receivedAt: at,
    envelope: { mailFrom: 'a@x.test', rcptTo: ['b@x.test'], clientAddress: '127.0.0.1', heloName: 'bench', user: null, tls: false },
    raw: Buffer.from(`Subject: bench ${n}\r\n\r\nbody\r\n`),
    parsed: {
      ok: true,
      message: {
        from: { name: '', address: 'a@x.test' }, to: [{ name: '', address: 'b@x.test' }], cc: [], bcc: [], replyTo: [],
        subject: `bench ${n}`, messageId: null, date: null, text: 'body', html: null, htmlText: null, headers: [], attachments: [], snippet: 'body',
      },
    },
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const server = values.db ? null : await startPostgres();
  const url = values.db ?? server!.url;
  const log = pino({ level: 'warn' });
  const store = await openSqliteStore(':memory:', { log });
  const pools: pg.Pool[] = [];
  const nodes = ['bench-a', 'bench-b'].map((nodeId) => {
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    // A session still closing when the throwaway server stops reports it here; nothing to do.
    pool.on('error', () => undefined);
    pools.push(pool);
    const local = createEventBus((err) => log.error({ err }));
    const cluster = createEventBus((err) => log.error({ err }));
    const bridge = createPgEventBridge({ pool, localBus: local, clusterBus: cluster, messages: store, relay: store.relay, nodeId, log, channel: 'kotak_bench' });
    return { local, cluster, bridge };
  });
  try {
    await Promise.all(nodes.map((n) => n.bridge.start()));
    const [a, b] = nodes as [(typeof nodes)[number], (typeof nodes)[number]];
    const sentAt = new Map<string, number>();
    const delays: number[] = [];
    let arrived: () => void = () => undefined;
    b.cluster.on('message:stored', (summary) => {
      const sent = sentAt.get(summary.id);
      if (sent === undefined) return;
      delays.push(performance.now() - sent);
      if (delays.length === count || mode === 'sequential') arrived();
    });
    const started = performance.now();
    for (let n = 0; n < count; n++) {
      const due = started + (n * 1000) / rate;
      if (mode === 'stream' && rate > 0 && performance.now() < due) await new Promise((resolve) => setTimeout(resolve, due - performance.now()));
      const summary = await store.insert(message(n));
      const heard = new Promise<void>((resolve) => (arrived = resolve));
      sentAt.set(summary.id, performance.now());
      a.local.emit('message:stored', summary);
      if (mode === 'sequential') await heard;
    }
    if (delays.length < count) await new Promise<void>((resolve) => (arrived = resolve));
    const elapsed = (performance.now() - started) / 1000;
    const sorted = [...delays].sort((x, y) => x - y);
    const ms = (v: number) => v.toFixed(2);
    console.log(`cross-node delay, ${mode}${mode === 'stream' && rate > 0 ? ` at ${rate}/s` : ''}, ${count} messages in ${elapsed.toFixed(1)} s (${Math.round(count / elapsed)}/s): ` +
      `p50 ${ms(percentile(sorted, 50))} ms, p90 ${ms(percentile(sorted, 90))} ms, p99 ${ms(percentile(sorted, 99))} ms, max ${ms(sorted.at(-1)!)} ms`);
  } finally {
    await Promise.all(nodes.map((n) => n.bridge.stop()));
    await Promise.all(pools.map((p) => p.end()));
    await store.close();
    await server?.stop();
  }
}

await main();
