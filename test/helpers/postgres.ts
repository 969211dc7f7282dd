/**
 * A real PostgreSQL server for a test file (issue 20): Debian's `postgresql` binaries, a fresh
 * cluster in a temporary directory, listening on 127.0.0.1 at a free port and on a Unix socket in
 * that directory, trust authentication for loopback only, fsync off (a test's cluster is thrown
 * away; nothing here measures durability against power loss). Stopped with a fast shutdown.
 *
 * PostgreSQL refuses to run as root: when the tests run as root (CI containers do), the cluster
 * belongs to the `postgres` user that Debian's package creates, and the server runs as it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

/** Where Debian installs the server binaries (`/usr/lib/postgresql/VERSION/bin`); the newest wins. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((version) => join(root, version, 'bin')).find((dir) => existsSync(join(dir, 'postgres')));
  if (!bin) throw new Error(`no PostgreSQL server under ${root}; install Debian's postgresql package (.ci/run does)`);
  return bin;
}

export interface RunningPostgres {
  readonly port: number;
  /** The temporary directory holding the cluster and the server's Unix socket. */
  readonly directory: string;
  /** `postgres://kotak@127.0.0.1:PORT/kotak`, as --db takes it (the superuser `kotak`, no password). */
  readonly url: string;
  /** A URL to another database of this server (created by createDatabase). */
  urlOf(database: string): string;
  /** Creates an empty database (e.g. one per test) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** What the server logged, for a failure message. */
  log(): string;
  /** Stops the server (fast shutdown: clients are disconnected), keeping its data directory. */
  pause(): Promise<void>;
  /** Starts the stopped server again on the same port and data. */
  resume(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const SUPERUSER = 'kotak';

/** Runs as the `postgres` user when we are root (PostgreSQL will not run as root). */
function asServerUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || uid <= 0) throw new Error('running as root, and there is no `postgres` user to run PostgreSQL as');
  return { uid, gid };
}

function initCluster(bin: string, dataDir: string, user: { uid?: number; gid?: number }): void {
  const result = spawnSync(
    join(bin, 'initdb'),
    ['-D', dataDir, '-A', 'trust', '-U', SUPERUSER, '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions'],
    { encoding: 'utf8', ...user },
  );
  if (result.status !== 0) throw new Error(`initdb failed (${result.status}): ${result.stderr}`);
  // Loopback and the socket only; trust, since the cluster lives as long as a test file.
  writeFileSync(join(dataDir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
}

async function launch(bin: string, dataDir: string, socketDir: string, port: number, user: { uid?: number; gid?: number }): Promise<{ child: ChildProcess; log: () => string } | null> {
  const args = [
    '-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', socketDir,
    '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    '-c', 'shared_buffers=32MB', '-c', 'log_min_messages=warning',
  ];
  const child = spawn(join(bin, 'postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], ...user });
  let log = '';
  const ready = new Promise<boolean>((resolve) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      log += text;
      if (/database system is ready to accept connections/.test(log)) resolve(true);
    });
    child.once('exit', () => resolve(false));
    child.once('error', () => resolve(false));
  });
  return (await ready) ? { child, log: () => log } : null;
}

export async function startPostgres(): Promise<RunningPostgres> {
  const bin = postgresBinDir();
  const user = asServerUser();
  const dir = mkdtempSync(join(tmpdir(), 'kotak-pg-'));
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!);
  chmodSync(dir, 0o700);
  const dataDir = join(dir, 'data');
  initCluster(bin, dataDir, user);

  let port = 0;
  let started: Awaited<ReturnType<typeof launch>> = null;
  // The free port can be taken between our check and the server's bind: then it exits; try another.
  for (let attempt = 0; attempt < 3 && started === null; attempt++) {
    port = await freePort();
    started = await launch(bin, dataDir, dir, port, user);
  }
  if (started === null) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL (${bin}/postgres) did not start`);
  }
  let current = started;
  const killOnExit = (): void => void current.child.kill('SIGQUIT');
  process.once('exit', killOnExit);
  const urlOf = (database: string) => `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;

  const halt = async (): Promise<void> => {
    const { child } = current;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGINT'); // fast shutdown
    await exited;
  };
  let stopping: Promise<void> | null = null;
  const running: RunningPostgres = {
    port,
    directory: dir,
    url: urlOf(SUPERUSER),
    urlOf,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const result = spawnSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER, name], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`createdb ${name} failed: ${result.stderr}`);
      return urlOf(name);
    },
    log: () => current.log(),
    pause: halt,
    async resume() {
      const again = await launch(bin, dataDir, dir, port, user);
      if (again === null) throw new Error(`PostgreSQL did not start again on port ${port}`);
      current = again;
    },
    stop() {
      stopping ??= (async () => {
        process.off('exit', killOnExit);
        await halt();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  // initdb makes only `postgres` and the templates; `url` names a database of the superuser's name.
  await running.createDatabase(SUPERUSER);
  return running;
}

/**
 * A pool for a test's own connections. Like the store's (src/store/pg/connection.ts), it listens
 * for errors on the pool and on every client: connections still open when the server stops (a
 * test that pauses it, or the file's end) are cut, and unheard that is an unhandled error.
 */
export function testPool(url: string, max = 4): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
