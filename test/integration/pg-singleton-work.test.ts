/**
 * Work that runs on one node at a time (src/store/pg/singleton-work.ts), on a real PostgreSQL:
 * two contenders with pools of their own, as two nodes would have.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { advisoryKey, createSingletonWork, type SingletonWork } from '../../src/store/pg/singleton-work.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';

const log = pino({ level: 'silent' });
let server: RunningPostgres;
let url: string;
let databases = 0;
const pools: pg.Pool[] = [];
const works: SingletonWork[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await Promise.all(works.splice(0).map((work) => work.close()));
  await Promise.all(pools.splice(0).map((pool) => pool.end()));
});

async function freshDatabase(): Promise<void> {
  url = await server.createDatabase(`singleton_${++databases}`);
}

function pool(): pg.Pool {
  const p = new pg.Pool({ connectionString: url, max: 3 });
  p.on('error', () => undefined); // idle clients cut by a server stop
  pools.push(p);
  return p;
}

function contender(name = 'retention'): SingletonWork {
  const work = createSingletonWork({ pool: pool(), name, log });
  works.push(work);
  return work;
}

/** The server process of the session that holds a work's lock, or null. */
async function holderPid(admin: pg.Pool, name: string): Promise<number | null> {
  const key = BigInt(advisoryKey(name));
  const classid = Number((key >> 32n) & 0xffffffffn);
  const objid = Number(key & 0xffffffffn);
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
    [classid, objid],
  );
  return rows[0]?.pid ?? null;
}

describe('work that runs on one node at a time', () => {
  it('two contenders asked together, round after round: one runs each time, never both at once, the same one while it lives', async () => {
    await freshDatabase();
    const nodes = [contender(), contender()];
    let inside = 0;
    let mostInside = 0;
    const ranBy: number[] = [];
    for (let round = 0; round < 20; round++) {
      const runs = await Promise.all(
        nodes.map((work, n) =>
          work.runIfHolder(async () => {
            inside += 1;
            mostInside = Math.max(mostInside, inside);
            await new Promise((resolve) => setImmediate(resolve));
            inside -= 1;
            return n;
          }),
        ),
      );
      const ran = runs.flatMap((run) => (run.ran ? [run.value] : []));
      expect(ran).toHaveLength(1);
      ranBy.push(ran[0]!);
    }
    expect(mostInside).toBe(1);
    expect(new Set(ranBy).size).toBe(1);
    expect(nodes[ranBy[0]!]!.isHolder()).toBe(true);
    expect(nodes[1 - ranBy[0]!]!.isHolder()).toBe(false);
    // Another kind of work has a lock of its own.
    expect((await contender('stray-cleanup').runIfHolder(async () => 'other')).ran).toBe(true);
  });

  it('a holder that closes, or whose session is cut, leaves the work to the other; the cut one recovers without holding it', async () => {
    await freshDatabase();
    const admin = pool();
    const a = contender();
    const b = contender();
    expect(await a.runIfHolder(async () => 'a')).toEqual({ ran: true, value: 'a' });
    expect(await b.runIfHolder(async () => 'b')).toEqual({ ran: false });

    // The server ends A's session (as on a lost connection): the lock is freed with it.
    const pid = await holderPid(admin, 'retention');
    expect(pid).not.toBeNull();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await vi.waitFor(async () => expect(await holderPid(admin, 'retention')).toBeNull(), { timeout: 10_000, interval: 10 });
    expect(await b.runIfHolder(async () => 'b')).toEqual({ ran: true, value: 'b' });
    expect(await a.runIfHolder(async () => 'a')).toEqual({ ran: false });
    expect(a.isHolder()).toBe(false);

    await b.close();
    expect(await b.runIfHolder(async () => 'b')).toEqual({ ran: false });
    // The server frees the lock when B's backend has ended, a moment after B's socket closed.
    await vi.waitFor(async () => expect(await a.runIfHolder(async () => 'a')).toEqual({ ran: true, value: 'a' }), { timeout: 10_000, interval: 20 });
  });

  it('a node killed with SIGKILL while holding the lock leaves the work to another', async () => {
    await freshDatabase();
    const admin = pool();
    // A separate process takes the same lock the way a node does, then is killed.
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
      import pg from 'pg';
      const client = new pg.Client({ connectionString: process.argv[1] });
      await client.connect();
      const { rows } = await client.query('SELECT pg_try_advisory_lock($1::bigint) AS taken', [process.argv[2]]);
      console.log(rows[0].taken ? 'taken' : 'not taken');
      setInterval(() => {}, 1000);
    `, url, advisoryKey('retention')], { stdio: ['ignore', 'pipe', 'inherit'], cwd: new URL('../../', import.meta.url).pathname });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    expect(line.toString().trim()).toBe('taken');
    const b = contender();
    expect(await b.runIfHolder(async () => 'b')).toEqual({ ran: false });
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    await vi.waitFor(async () => expect(await b.runIfHolder(async () => 'b')).toEqual({ ran: true, value: 'b' }), { timeout: 10_000, interval: 20 });
    expect(await holderPid(admin, 'retention')).not.toBeNull();
  });

  it('after the database restarts, the holder takes the lock again when next asked', async () => {
    await freshDatabase();
    const a = contender();
    expect((await a.runIfHolder(async () => 1)).ran).toBe(true);
    await server.pause();
    expect(await a.runIfHolder(async () => 2)).toEqual({ ran: false });
    await server.resume();
    await vi.waitFor(async () => expect(await a.runIfHolder(async () => 3)).toEqual({ ran: true, value: 3 }), { timeout: 10_000, interval: 20 });
    expect(a.isHolder()).toBe(true);
  });
});
