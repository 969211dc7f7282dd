/**
 * Ingest benchmark: how fast Kotak accepts mail over real SMTP, and what it costs in memory.
 *
 *   npm run bench                                   # build, then the full matrix
 *   tsx bench/ingest.ts --sizes 1k --conns 10 --messages 2000
 *   tsx bench/ingest.ts --json > results.json       # tables on stderr, JSON on stdout
 *
 * For every (message size × connections) scenario it starts a fresh Kotak child process on a fresh
 * database in os.tmpdir(), sends a short uncounted warm-up and then N messages, reads the child's
 * peak RSS, checks /api/stats, stops the child and deletes the database. It measures and prints;
 * it asserts nothing about time, so it never fails on a slow machine.
 *
 * The client is a small hand-written SMTP client on node:net rather than nodemailer: client and
 * server share the same (often 2) cores, so every microsecond the client spends per message is
 * taken from the server being measured. Messages are built once per scenario; per message only a
 * ~100-byte header block is formatted.
 *
 * With --mailboxes N (N > 1) the server routes by `--mailbox-route '*@{mailbox}.inbox.test'` and message
 * i goes to (and is addressed To) user@mb<k>.inbox.test, k = i mod N zero-padded: one copy each, spread
 * over N mailboxes (issue 16).
 *
 * Units: 1 KB = 1024 bytes, 1 MB = 1024 × 1024 bytes, for message sizes, MB/s and RSS alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { isPostgresUrl } from '../src/config.js';
import { redactUrl } from '../src/store/pg/connection.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { buildTemplate, MAILBOX_ROUTE, recipients, SIZES, type Template } from './messages.js';
import { postfixToolsInstalled, runSmtpSource, startSmtpSink } from './postfix-tools.js';
import { SmtpConnection } from './smtp-connection.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** BENCH_KOTAK_BIN: another build's bin/kotak.js (a copy of bin/ and dist/), to compare two builds in alternating runs. */
const KOTAK_BIN = process.env.BENCH_KOTAK_BIN ?? path.join(ROOT, 'bin', 'kotak.js');
const BARE_SERVER = path.join(ROOT, 'bench', 'bare-smtp-server.js');
const REFERENCE_SERVER = path.join(ROOT, 'bench', 'reference-server.js');
const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Scenarios

// SIZES and buildTemplate (the messages sent) live in bench/messages.ts, shared with bench/store-commit.ts.

interface Options {
  readonly sizes: readonly string[];
  readonly conns: readonly number[];
  readonly messages: number | null;
  readonly warmup: number | null;
  readonly waiters: number;
  /** Mailboxes the messages are spread over; 1 = no routing, everything in `default`. */
  readonly mailboxes: number;
  /** Kotak's --durability: crash (its default) or full (fsync before every 250). */
  readonly durability: 'crash' | 'full';
  /** Kotak on a throwaway PostgreSQL, a fresh database per Kotak started. */
  readonly pg: boolean;
  /** With pg: an operator's PostgreSQL server to use instead of a throwaway one (databases are made on it and dropped). */
  readonly pgUrl: string | null;
  /** With pg: how many Kotak nodes share each scenario's database. */
  readonly nodes: number;
  readonly baseline: boolean;
  /** Also run each scenario against Postfix's smtp-sink (discards everything, in C): the ceiling. */
  readonly sink: boolean;
  /** Also drive smtp-sink and Kotak with Postfix's smtp-source (plain-text bodies of 79-character lines). */
  readonly smtpSource: boolean;
  readonly reference: boolean;
  readonly json: boolean;
  /** Scrape Kotak's GET /metrics this often during each measured run (ms); null: never. */
  readonly scrapeEveryMs: number | null;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      sizes: { type: 'string', default: '1k,50k,1m' },
      conns: { type: 'string', default: '1,10,50' },
      messages: { type: 'string' },
      warmup: { type: 'string' },
      waiters: { type: 'string', default: '0' },
      mailboxes: { type: 'string', default: '1' },
      durability: { type: 'string', default: 'crash' },
      pg: { type: 'boolean', default: false },
      db: { type: 'string' },
      nodes: { type: 'string', default: '1' },
      baseline: { type: 'boolean', default: false },
      sink: { type: 'boolean', default: false },
      'smtp-source': { type: 'boolean', default: false },
      reference: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      scrape: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: tsx bench/ingest.ts [--sizes 1k,50k,1m] [--conns 1,10,50] [--messages N] [--warmup N] [--waiters N] [--mailboxes N] [--durability crash|full] [--pg | --db postgres://URL] [--nodes N] [--baseline] [--sink] [--smtp-source] [--reference] [--json] [--scrape MS]\n' +
        '  --sizes       any of 1k, 50k, 128k, 256k, 1m (the default matrix is 1k,50k,1m)\n' +
        '  --messages N  messages per scenario (default: 8000 at 1k, 3000 at 50k, 400 at 1m; half that with 1 connection)\n' +
        '  --warmup N    uncounted messages sent first (default: 10% of N, at least one per connection)\n' +
        '  --waiters N   hold N requests on GET /api/messages/wait (each for its own to: address, never matched) during the run\n' +
        '  --mailboxes N spread the messages over N mailboxes (default 1: no routing, all in default): Kotak starts with\n' +
        "                --mailbox-route '*@{mailbox}.inbox.test' and message i goes to user@mb<i mod N>.inbox.test (zero-padded)\n" +
        '  --durability  Kotak\'s --durability: crash (default, as Kotak\'s own) or full (fsync before every 250)\n' +
        '  --pg          Kotak on PostgreSQL: a throwaway server (test/helpers/postgres.ts: loopback, fsync off) and a fresh\n' +
        '                database for each Kotak started (--durability does not apply)\n' +
        '  --db URL      Kotak on this PostgreSQL server (e.g. on another machine): each Kotak started gets a database of\n' +
        '                its own made there (CREATE DATABASE; the URL\'s user needs CREATEDB) and dropped at the end\n' +
        '  --nodes N     with --pg: N Kotak nodes on one database, the connections spread over them in turn\n' +
        '                (CPU, main thread and peak RSS are the first node\'s)\n' +
        '  --baseline    also run each scenario against a bare smtp-server that discards every message (bench/bare-smtp-server.js),\n' +
        '                the ceiling for this machine, and print Kotak\'s share of it\n' +
        '  --sink        also run each scenario against Postfix\'s smtp-sink (discards everything; Debian package postfix),\n' +
        '                the ceiling, and print Kotak\'s share of it\n' +
        '  --smtp-source after the matrix, send each size as a plain-text body with Postfix\'s smtp-source, to smtp-sink\n' +
        '                and to Kotak, and print Kotak\'s share of smtp-sink for that shape too\n' +
        '  --reference   also run each scenario against smtp-server + mailparser + one SQLite insert per message\n' +
        '                (bench/reference-server.js), the yardstick issue 2 measured at 2.3k / 500 / 18 msg/s on its machine\n' +
        '  --json        print results as JSON on stdout (the human-readable output moves to stderr)\n' +
        '  --scrape MS   fetch Kotak\'s GET /metrics every MS ms during each measured run, as a Prometheus would\n',
    );
    process.exit(0);
  }
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const list = (s: string): string[] => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  const count = (flag: string, s: string, min: number): number => {
    if (!/^\d+$/.test(s) || Number(s) < min) throw new Error(`--${flag}: "${s}" is not a whole number ≥ ${min}`);
    return Number(s);
  };
  const sizes = list(values.sizes);
  for (const s of sizes) if (!SIZES[s]) throw new Error(`--sizes: unknown size "${s}" (known: ${Object.keys(SIZES).join(', ')})`);
  return {
    sizes,
    conns: list(values.conns).map((c) => count('conns', c, 1)),
    messages: values.messages === undefined ? null : count('messages', values.messages, 1),
    warmup: values.warmup === undefined ? null : count('warmup', values.warmup, 0),
    waiters: count('waiters', values.waiters, 0),
    scrapeEveryMs: values.scrape === undefined ? null : count('scrape', values.scrape, 1),
    mailboxes: count('mailboxes', values.mailboxes, 1),
    durability: values.durability === 'full' || values.durability === 'crash' ? values.durability : fail(`--durability: "${values.durability}" is not crash or full`),
    pg: values.pg || values.db !== undefined,
    pgUrl: values.db === undefined ? null : isPostgresUrl(values.db) ? values.db : fail(`--db: "${redactUrl(values.db)}" is not a postgres:// or postgresql:// URL`),
    nodes: values.pg || values.db !== undefined ? count('nodes', values.nodes, 1) : values.nodes === '1' ? 1 : fail('--nodes needs --pg'),
    baseline: values.baseline,
    sink: values.sink,
    smtpSource: values['smtp-source'],
    reference: values.reference,
    json: values.json,
  };
}

// ---------------------------------------------------------------------------------------------
// SMTP client

// SmtpConnection (bench/smtp-connection.ts): shared with bench/webhook-slow.ts.

/**
 * The pipelined MAIL/RCPT/DATA command blocks, one per recipient (see recipients()), formatted once
 * per scenario; message n uses block n mod count, as its To header does.
 */
function envelopes(mailboxes: number): readonly string[] {
  return recipients(mailboxes).map((rcpt) => `MAIL FROM:<bench@kotak.test>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`);
}

// ---------------------------------------------------------------------------------------------
// The Kotak child process

/**
 * What the benchmark sends to: Kotak, the bare smtp-server that discards (--baseline), or the plain
 * smtp-server + mailparser + one-insert-per-message pipeline (--reference).
 */
type Server = 'kotak' | 'bare smtp-server' | 'smtp-sink' | 'reference pipeline';

interface Kotak {
  readonly child: ChildProcess;
  readonly smtpPort: number;
  readonly httpPort: number;
  readonly dir: string;
  /** The --db it was started with (another node of it is started on the same). */
  readonly db?: string;
  /** Log lines at warn level or above, shown after the scenario: they usually explain failures. */
  readonly problems: string[];
}

/** Children still running, so Ctrl-C can stop them and remove their databases. */
const live = new Set<Kotak>();

/** Where --pg / --db make each Kotak's database. */
interface DatabaseMaker {
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** With --pg: the throwaway server (or --db's), and how many databases it has made. */
let postgres: { server: DatabaseMaker; databases: number } | null = null;

/**
 * --db: an operator's server. Each Kotak gets a database of its own (a fresh schema per run, as
 * with the throwaway server), named with this process's pid so that two benchmarks never meet;
 * all are dropped at the end.
 */
function operatorsServer(url: string): DatabaseMaker {
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const made: string[] = [];
  return {
    async createDatabase(name) {
      const database = `kotak_${name}_${process.pid}`;
      await admin.query(`CREATE DATABASE ${database}`);
      made.push(database);
      const target = new URL(url);
      target.pathname = `/${database}`;
      return target.toString();
    },
    async stop() {
      for (const database of made.splice(0)) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
      await admin.end();
    },
  };
}

async function startServer(server: Server = 'kotak', mailboxes = 1, durability: Options['durability'] = 'crash', sharedDb?: string): Promise<Kotak> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kotak-bench-'));
  if (server === 'smtp-sink') {
    const sink = await startSmtpSink();
    const kotak = { child: sink.child, smtpPort: sink.port, httpPort: 0, dir, problems: [] };
    live.add(kotak);
    return kotak;
  }
  const db = sharedDb ?? (postgres ? await postgres.server.createDatabase(`bench_${++postgres.databases}`) : path.join(dir, 'bench.db'));
  // KOTAK_* variables in the caller's environment would silently change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KOTAK_')));
  // Spawn node itself (no shell, no npm) so child.pid is the server's pid, for /proc/<pid>/status.
  // BENCH_NODE_ARGS passes flags to the server's node (e.g. "--cpu-prof --cpu-prof-dir=prof") for profiling.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args =
    server === 'kotak'
      ? [KOTAK_BIN, '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', db, '--log-level', 'info', '--max-wait', '1h', '--durability', durability, ...(mailboxes > 1 ? ['--mailbox-route', MAILBOX_ROUTE] : [])]
      : server === 'bare smtp-server'
        ? [BARE_SERVER]
        : [REFERENCE_SERVER, path.join(dir, 'reference.db')];
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  const problems: string[] = [];
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));

  try {
    const ports = await new Promise<{ smtpPort: number; httpPort: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Kotak did not report "kotak listening" within 30 s')), 30_000);
      child.once('exit', (code) => reject(new Error(`Kotak exited (code ${code}) before listening: ${stderr.trim()}`)));
      child.once('error', reject);
      // Keep reading stdout for the whole run: a full pipe would block the server's logging.
      createInterface({ input: child.stdout! }).on('line', (line) => {
        let entry: { msg?: string; level?: number; smtpPort?: number; httpPort?: number };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          return;
        }
        if ((entry.level ?? 0) >= 40 && problems.length < 20) problems.push(line);
        if (entry.msg === 'kotak listening' && typeof entry.smtpPort === 'number' && typeof entry.httpPort === 'number') {
          clearTimeout(timer);
          resolve({ smtpPort: entry.smtpPort, httpPort: entry.httpPort });
        }
      });
    });
    const kotak = { child, dir, db, problems, ...ports };
    live.add(kotak);
    return kotak;
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Peak resident set of a process in MB (VmHWM, Linux); null where /proc is not available. */
function peakRssMb(pid: number | undefined): number | null {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; null elsewhere.
 * With `mainThreadOnly`, only its main thread's (/proc/<pid>/task/<pid>/stat): in Kotak that is
 * the SMTP thread, which also runs the HTTP API, the inline parse and the store's JavaScript side.
 */
function cpuSeconds(pid: number | undefined, mainThreadOnly = false): number | null {
  try {
    // Fields after the parenthesised command name (which may contain spaces); utime and stime are
    // fields 14 and 15 of the line, in clock ticks, practically always 100 per second on Linux.
    const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

async function stopKotak(kotak: Kotak): Promise<void> {
  const { child } = kotak;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000); // a hung shutdown still ends
    await exited;
    clearTimeout(timer);
  }
  live.delete(kotak);
  // The directory holds the database and its -wal/-shm files.
  rmSync(kotak.dir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const k of live) {
      k.child.kill('SIGKILL');
      rmSync(k.dir, { recursive: true, force: true });
    }
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------
// A scenario

interface Result {
  server: Server;
  size: string;
  sizeBytes: number;
  connections: number;
  /** Mailboxes the messages were spread over (1: no routing). */
  mailboxes: number;
  messages: number;
  warmup: number;
  accepted: number;
  failures: number;
  seconds: number;
  messagesPerSecond: number;
  mbPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  waiters: number;
  peakRssMb: number | null;
  kotakCpuSeconds: number | null;
  clientCpuSeconds: number;
  /** The server's main thread's CPU time over the timed run's wall time (1 = always busy). */
  mainThreadBusy: number | null;
  storedTotal: number | null;
}

/**
 * Sends `count` messages over `conns`, numbered from `first`. The connections share one counter,
 * so a fast connection takes more messages and the total is exact.
 */
async function sendMany(conns: SmtpConnection[], envelopes: readonly string[], template: Template, first: number, count: number, latencies: Float64Array | null) {
  let next = 0;
  let accepted = 0;
  let failures = 0;
  let lastError: Error | null = null;
  await Promise.all(
    conns.map(async (conn) => {
      while (next < count) {
        const i = next++;
        try {
          const r = await conn.send(envelopes[(first + i) % envelopes.length]!, template.head(first + i), template.body);
          if (r.ok) accepted++;
          else failures++;
          if (latencies) latencies[i] = r.latencyMs;
        } catch (err) {
          // The connection is gone; the message in flight failed, the others carry on.
          failures++;
          if (latencies) latencies[i] = NaN;
          lastError = err as Error;
          return;
        }
      }
    }),
  );
  // Messages nobody sent because every connection died count as failures too.
  failures += count - Math.min(next, count);
  return { accepted, failures, lastError: lastError as Error | null };
}

/** Runs in its own node process: holds the waiting requests and does nothing else. */
const WAITER_HOLDER = `
const [port, count] = process.argv.slice(1).map(Number);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
for (let i = 0; i < count; i++) {
  http.get({ host: '127.0.0.1', port, agent, path: '/api/messages/wait?query=to:waiter-' + i + '@bench.test&timeout=3600' }).on('error', () => {});
}
`;

/**
 * Opens `count` long-poll requests on /api/messages/wait, each for an address no message is sent
 * to, as parallel Playwright workers would: from another process (so this load generator's own
 * work is not mixed with theirs), and resolves once the server reports them all waiting.
 */
/** Fetches GET /metrics (the whole body) every `everyMs`, as a Prometheus scraper would; stop() says how many. */
function scrapeMetrics(httpPort: number, everyMs: number): { stop(): Promise<number> } {
  let scrapes = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = fetch(`http://127.0.0.1:${httpPort}/metrics`).then(async (res) => {
      await res.text();
      if (res.ok) scrapes++;
    }, () => undefined);
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      return scrapes;
    },
  };
}

async function holdWaiters(httpPort: number, count: number): Promise<{ release(): void }> {
  if (count === 0) return { release() {} };
  const holder = spawn(process.execPath, ['--input-type=module', '-e', WAITER_HOLDER, String(httpPort), String(count)], { stdio: 'ignore' });
  for (;;) {
    const stats = (await (await fetch(`http://127.0.0.1:${httpPort}/api/stats`)).json()) as { waiters?: number };
    if ((stats.waiters ?? 0) >= count) break;
    if (holder.exitCode !== null) throw new Error(`the waiter holder exited (code ${holder.exitCode})`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    release() {
      holder.kill();
    },
  };
}

/** Warns unless the routed messages landed in as many mailboxes as they were spread over. */
async function checkMailboxes(httpPort: number, expected: number, say: (line: string) => void): Promise<void> {
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/mailboxes`);
    const { mailboxes } = (await res.json()) as { mailboxes: { name: string; total: number }[] };
    const used = mailboxes.filter((m) => /^mb\d+$/.test(m.name) && m.total > 0).length;
    if (used !== expected) say(`  WARNING: messages landed in ${used} mb<k> mailboxes, expected ${expected}`);
  } catch (err) {
    say(`  WARNING: GET /api/mailboxes failed: ${(err as Error).message}`);
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

async function runScenario(sizeKey: string, connections: number, options: Options, say: (line: string) => void, server: Server = 'kotak'): Promise<Result> {
  const size = SIZES[sizeKey]!;
  const messages = options.messages ?? (connections === 1 ? size.messages / 2 : size.messages);
  const warmup = options.warmup ?? Math.max(connections, Math.ceil(messages * 0.1));
  const template = buildTemplate(size, recipients(options.mailboxes));

  const kotak = await startServer(server, options.mailboxes, options.durability);
  const envelopeBlocks = envelopes(options.mailboxes);
  // The yardsticks have no HTTP API: no waiters, no stored-count check.
  const isKotak = server === 'kotak';
  const others: Kotak[] = [];
  try {
    // More nodes on the same database; the connections go to each node in turn.
    if (isKotak) for (let n = 1; n < options.nodes; n++) others.push(await startServer('kotak', options.mailboxes, options.durability, kotak.db));
    const nodes = [kotak, ...others];
    const conns = await Promise.all(Array.from({ length: connections }, (_, i) => SmtpConnection.open(nodes[i % nodes.length]!.smtpPort)));

    // Warm-up: JIT, parser workers, SQLite page cache and file growth, not counted.
    const warm = await sendMany(conns, envelopeBlocks, template, 0, warmup, null);
    const waiting = await holdWaiters(kotak.httpPort, isKotak ? options.waiters : 0);
    const scraper = isKotak && options.scrapeEveryMs !== null ? scrapeMetrics(kotak.httpPort, options.scrapeEveryMs) : null;

    const latencies = new Float64Array(messages);
    const cpuBefore = process.cpuUsage();
    const kotakCpuBefore = cpuSeconds(kotak.child.pid);
    const mainThreadCpuBefore = cpuSeconds(kotak.child.pid, true);
    const t0 = performance.now();
    const run = await sendMany(conns, envelopeBlocks, template, warmup, messages, latencies);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const kotakCpuAfter = cpuSeconds(kotak.child.pid);
    const mainThreadCpuAfter = cpuSeconds(kotak.child.pid, true);

    await Promise.all(conns.map((c) => c.quit()));
    waiting.release();
    if (scraper) say(`  ${await scraper.stop()} scrapes of /metrics during the run`);

    // Every 250 means "committed", so the store must hold exactly what was accepted.
    let storedTotal: number | null = null;
    const expected = warm.accepted + run.accepted;
    if (isKotak) {
      try {
        const res = await fetch(`http://127.0.0.1:${kotak.httpPort}/api/stats`);
        storedTotal = ((await res.json()) as { total: number }).total;
      } catch (err) {
        say(`  WARNING: GET /api/stats failed: ${(err as Error).message}`);
      }
      if (options.mailboxes > 1) await checkMailboxes(kotak.httpPort, Math.min(options.mailboxes, expected), say);
      if (storedTotal !== expected) say(`  WARNING: /api/stats total is ${storedTotal}, but ${expected} messages were accepted (${warmup} warm-up + ${messages}, ${warm.failures + run.failures} failed)`);
    }
    if (warm.failures + run.failures > 0) say(`  WARNING: ${warm.failures + run.failures} messages failed${run.lastError ?? warm.lastError ? `: ${(run.lastError ?? warm.lastError)!.message}` : ''}`);

    // VmHWM just before stopping: the high-water mark over the whole run.
    const rss = peakRssMb(kotak.child.pid);

    const ok = latencies.filter((x) => !Number.isNaN(x)).sort();
    return {
      server,
      size: size.label,
      sizeBytes: template.messageBytes,
      connections,
      mailboxes: options.mailboxes,
      messages,
      warmup,
      accepted: run.accepted,
      failures: run.failures,
      seconds,
      messagesPerSecond: messages / seconds,
      mbPerSecond: (run.accepted * template.messageBytes) / MB / seconds,
      p50Ms: percentile(ok, 50),
      p99Ms: percentile(ok, 99),
      maxMs: ok.length ? ok[ok.length - 1]! : NaN,
      waiters: isKotak ? options.waiters : 0,
      peakRssMb: rss,
      kotakCpuSeconds: kotakCpuBefore === null || kotakCpuAfter === null ? null : kotakCpuAfter - kotakCpuBefore,
      clientCpuSeconds: (cpu.user + cpu.system) / 1e6,
      mainThreadBusy: mainThreadCpuBefore === null || mainThreadCpuAfter === null ? null : (mainThreadCpuAfter - mainThreadCpuBefore) / seconds,
      storedTotal,
    };
  } finally {
    for (const node of [kotak, ...others]) {
      for (const line of node.problems) say(`  kotak: ${line}`);
      await stopKotak(node);
    }
  }
}

/** Postfix's smtp-source as the client: plain-text bodies of each size, to smtp-sink and then to a fresh Kotak. */
async function runSmtpSourceMatrix(options: Options, say: (line: string) => void) {
  if (!postfixToolsInstalled()) throw new Error('--smtp-source needs Postfix\'s smtp-source and smtp-sink (apt-get install postfix)');
  const rows: { size: string; sessions: number; messages: number; sinkPerSecond: number; kotakPerSecond: number; share: number; peakRssMb: number | null }[] = [];
  say('');
  for (const sizeKey of options.sizes) {
    const size = SIZES[sizeKey]!;
    for (const sessions of options.conns) {
      const messages = options.messages ?? (sessions === 1 ? size.messages / 2 : size.messages);
      const sink = await startServer('smtp-sink');
      let sinkRun;
      try {
        sinkRun = await runSmtpSource(sink.smtpPort, { messages, sessions, bodyBytes: size.bytes });
      } finally {
        await stopKotak(sink);
      }
      const kotak = await startServer('kotak', 1, options.durability);
      let kotakRun;
      let rss: number | null;
      try {
        kotakRun = await runSmtpSource(kotak.smtpPort, { messages, sessions, bodyBytes: size.bytes });
        const stored = ((await (await fetch(`http://127.0.0.1:${kotak.httpPort}/api/stats`)).json()) as { total: number }).total;
        if (stored !== messages) say(`  WARNING: /api/stats total is ${stored}, but smtp-source sent ${messages}`);
        rss = peakRssMb(kotak.child.pid);
      } finally {
        for (const line of kotak.problems) say(`  kotak: ${line}`);
        await stopKotak(kotak);
      }
      const share = kotakRun.messagesPerSecond / sinkRun.messagesPerSecond;
      rows.push({ size: size.label, sessions, messages, sinkPerSecond: sinkRun.messagesPerSecond, kotakPerSecond: kotakRun.messagesPerSecond, share, peakRssMb: rss });
      say(
        `smtp-source, ${size.label} plain text × ${sessions} session${sessions === 1 ? '' : 's'}, ${messages} msgs: smtp-sink ${fixed(sinkRun.messagesPerSecond, 0)} msg/s, ` +
          `Kotak (--durability ${options.durability}) ${fixed(kotakRun.messagesPerSecond, 0)} msg/s = ${fixed(share, 2)}× smtp-sink, Kotak's peak RSS ${fixed(rss, 0)} MB`,
      );
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Output

const fixed = (x: number | null, digits: number): string => (x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(digits));

function table(results: readonly Result[]): string {
  const head = ['server', 'size', 'conns', 'mailboxes', 'waiters', 'messages', 'msg/s', 'MB/s', 'p50 ms', 'p99 ms', 'failures', 'peak RSS MB'];
  const rows = results.map((r) => [
    r.server,
    r.size,
    String(r.connections),
    String(r.mailboxes),
    String(r.waiters),
    String(r.messages),
    fixed(r.messagesPerSecond, 0),
    fixed(r.mbPerSecond, 1),
    fixed(r.p50Ms, 2),
    fixed(r.p99Ms, 2),
    String(r.failures),
    fixed(r.peakRssMb, 0),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.pg) postgres = { server: options.pgUrl ? operatorsServer(options.pgUrl) : await startPostgres(), databases: 0 };
  if (!existsSync(path.join(ROOT, 'dist', 'main.js'))) throw new Error('dist/main.js is missing: run `npm run build` first');

  // With --json, stdout carries only the JSON document, so it can be redirected to a file.
  const say = (line: string): void => void (options.json ? process.stderr : process.stdout).write(`${line}\n`);
  const cpus = os.cpus();
  say(`Kotak ingest benchmark: node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${os.platform()} ${os.release()}`);

  const results: Result[] = [];
  for (const sizeKey of options.sizes) {
    for (const connections of options.conns) {
      const ceiling = options.baseline ? await runScenario(sizeKey, connections, options, say, 'bare smtp-server') : null;
      if (ceiling) results.push(ceiling);
      const sink = options.sink ? await runScenario(sizeKey, connections, options, say, 'smtp-sink') : null;
      if (sink) results.push(sink);
      const reference = options.reference ? await runScenario(sizeKey, connections, options, say, 'reference pipeline') : null;
      if (reference) results.push(reference);
      const r = await runScenario(sizeKey, connections, options, say);
      results.push(r);
      if (ceiling) say(`${ceiling.size} × ${ceiling.connections} conn, bare smtp-server (discards everything): ${fixed(ceiling.messagesPerSecond, 0)} msg/s, peak RSS ${fixed(ceiling.peakRssMb, 0)} MB, main thread busy ${ceiling.mainThreadBusy === null ? 'n/a' : `${fixed(100 * ceiling.mainThreadBusy, 0)}%`}`);
      if (sink) say(`${sink.size} × ${sink.connections} conn, Postfix smtp-sink (discards everything): ${fixed(sink.messagesPerSecond, 0)} msg/s`);
      if (reference) say(`${reference.size} × ${reference.connections} conn, reference pipeline (smtp-server + mailparser + one insert per message): ${fixed(reference.messagesPerSecond, 0)} msg/s, p50 ${fixed(reference.p50Ms, 2)} ms, peak RSS ${fixed(reference.peakRssMb, 0)} MB`);
      say(
        `${r.size} (${r.sizeBytes} B) × ${r.connections} conn, ${r.mailboxes} mailbox${r.mailboxes === 1 ? '' : 'es'}: ${r.messages} msgs in ${r.seconds.toFixed(2)} s → ` +
          `${fixed(r.messagesPerSecond, 0)} msg/s, ${fixed(r.mbPerSecond, 1)} MB/s, p50 ${fixed(r.p50Ms, 2)} ms, p99 ${fixed(r.p99Ms, 2)} ms, ` +
          `${r.failures} failures, peak RSS ${fixed(r.peakRssMb, 0)} MB; CPU kotak ${fixed(r.kotakCpuSeconds, 1)} s, client ${fixed(r.clientCpuSeconds, 1)} s; ` +
          `server main thread busy ${r.mainThreadBusy === null ? 'n/a' : `${fixed(100 * r.mainThreadBusy, 0)}%`}` +
          (ceiling ? `; ${fixed((100 * r.messagesPerSecond) / ceiling.messagesPerSecond, 0)}% of bare smtp-server` : '') +
          (sink ? `; ${fixed(r.messagesPerSecond / sink.messagesPerSecond, 2)}× smtp-sink` : '') +
          (reference ? `; ${fixed(r.messagesPerSecond / reference.messagesPerSecond, 1)}× the reference pipeline` : ''),
      );
    }
  }
  say('');
  say(table(results));
  const sourceResults = options.smtpSource ? await runSmtpSourceMatrix(options, say) : [];
  if (options.json) {
    const meta = { node: process.version, cpus: cpus.length, cpuModel: cpus[0]?.model ?? null, platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString() };
    process.stdout.write(`${JSON.stringify({ meta, results, smtpSource: sourceResults }, null, 2)}\n`);
  }
  await postgres?.server.stop();
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).message ?? String(err)}\n`);
  await postgres?.server.stop();
  for (const k of live) {
    k.child.kill('SIGKILL');
    rmSync(k.dir, { recursive: true, force: true });
  }
  process.exit(1);
});
