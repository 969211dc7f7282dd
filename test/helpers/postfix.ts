/**
 * A private, throwaway Postfix (Debian's package) for relay tests: its own config, queue and data
 * directories in a temp directory, one SMTP listener on 127.0.0.1:<free port>, a virtual mailbox
 * domain delivering to Maildirs in the temp directory, STARTTLS with a self-signed certificate,
 * and its log in a file there (there is no syslog). The master daemon is a child of the test and
 * is stopped with it; nothing of a system Postfix (/etc/postfix, /var/spool/postfix, port 25) is
 * read, written or contacted, and outbound mail is impossible (every non-local transport is
 * `error:`), so nothing leaves loopback.
 *
 *   const postfix = await startPostfix({ domain: 'postfix.kotak.test', mailboxes: ['someone'] });
 *   ... deliver to 127.0.0.1:postfix.port ...
 *   const file = await postfix.waitForMessage('someone', queueId);
 *   await postfix.stop();
 *
 * Postfix must run as root (the master drops privileges per service), so this needs a root test
 * process, as CI has. A missing Postfix is an error, never a skip.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

export interface PostfixOptions {
  /** The virtual mailbox domain Postfix accepts mail for; every other domain is refused at RCPT. */
  readonly domain: string;
  /** Local parts with a Maildir; any other address of the domain gets 550 5.1.1 at RCPT. */
  readonly mailboxes: readonly string[];
  /** myhostname: the name in the greeting and in the Received header. */
  readonly hostname?: string;
  /** How long startup may take (check, certificate, master, first greeting). */
  readonly startTimeoutMs?: number;
}

export interface PrivatePostfix {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly hostname: string;
  /** mail_version, e.g. 3.7.11. */
  readonly version: string;
  /** The temp directory holding everything (etc/, spool/, data/, mail/, maillog). */
  readonly dir: string;
  /** The Postfix log so far. */
  log(): string;
  /** Files delivered to a mailbox's Maildir (new/), by name. */
  delivered(mailbox: string): string[];
  /**
   * Resolves with the Maildir file of the message Postfix accepted as `queueId` for `mailbox`
   * (found by the `id <queueId>` in the Received header Postfix adds), once the virtual delivery
   * agent has written it. Watches new/ (a Maildir delivery is a rename into it); rejects after
   * `timeoutMs` with the Postfix log.
   */
  waitForMessage(mailbox: string, queueId: string, timeoutMs?: number): Promise<Buffer>;
  /** SIGTERM to the master (it passes it on to its children), SIGKILL if it lingers; removes the directory. */
  stop(): Promise<void>;
}

const POSTCONF_CANDIDATES = ['/usr/sbin/postconf', '/usr/bin/postconf'];

/** Where Debian's Postfix is, and its version; throws (clearly) when it is not installed. */
export async function findPostfix(): Promise<{ postconf: string; postfix: string; master: string; version: string }> {
  const postconf = POSTCONF_CANDIDATES.find((p) => existsSync(p));
  if (!postconf) throw new Error(`Postfix is not installed (no ${POSTCONF_CANDIDATES.join(' or ')}): install the Debian package "postfix" (.ci/run does). This test fails rather than skips without it.`);
  const { stdout } = await run(postconf, ['-d', '-h', 'mail_version', 'command_directory', 'daemon_directory']);
  const [version = '', commandDir = '', daemonDir = ''] = stdout.trim().split('\n').map((l) => l.trim());
  const postfix = join(commandDir, 'postfix');
  const master = join(daemonDir, 'master');
  for (const file of [postfix, master]) if (!existsSync(file)) throw new Error(`Postfix is incomplete: ${file} is missing (reinstall the Debian package "postfix")`);
  const [major = 0, minor = 0] = version.split('.').map(Number);
  // maillog_file/postlogd (3.4) and `master -s` (3.4) are what make a syslog-less private instance work.
  if (major < 3 || (major === 3 && minor < 4)) throw new Error(`Postfix ${version} is too old: the test needs 3.4 or later (maillog_file, master -s)`);
  return { postconf, postfix, master, version };
}

export async function startPostfix(options: PostfixOptions): Promise<PrivatePostfix> {
  const { postfix, master, version } = await findPostfix();
  if (process.getuid?.() !== 0) throw new Error('a private Postfix must be started by root (its master daemon drops privileges per service); run the test as root, as CI does');
  const hostname = options.hostname ?? `mx.${options.domain}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  const nobody = passwdEntry('nobody');

  const dir = mkdtempSync(join(tmpdir(), 'kotak-postfix-'));
  try {
    // Postfix daemons run as mail_owner and the virtual delivery agent as nobody: both must get in.
    chmodSync(dir, 0o755);
    const etc = join(dir, 'etc');
    const spool = join(dir, 'spool');
    const data = join(dir, 'data');
    const mail = join(dir, 'mail');
    for (const d of [etc, spool, data, mail]) mkdirSync(d, { mode: 0o755 });
    const postfixUser = passwdEntry('postfix');
    chownSync(data, postfixUser.uid, postfixUser.gid);
    chownSync(mail, nobody.uid, nobody.gid);
    for (const box of options.mailboxes) {
      for (const sub of ['', 'new', 'cur', 'tmp']) {
        const path = join(mail, box, sub);
        mkdirSync(path, { mode: 0o700 });
        chownSync(path, nobody.uid, nobody.gid);
      }
    }
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${hostname}`, '-keyout', join(etc, 'key.pem'), '-out', join(etc, 'cert.pem')]).catch((err: Error) => {
      throw new Error(`openssl could not make Postfix's test certificate: ${err.message}`);
    });
    writeFileSync(join(etc, 'vmailbox'), options.mailboxes.map((box) => `${box}@${options.domain} ${box}/\n`).join(''));

    writeFileSync(join(etc, 'main.cf'), mainCf({ dir, etc, spool, data, mail, hostname, domain: options.domain, nobody }));
    let port = await freePort();
    writeFileSync(join(etc, 'master.cf'), masterCf(port));
    // Creates the queue directories with their owners and modes (post-install create-missing),
    // and checks the configuration; its complaints go to the maillog file.
    await run(postfix, ['-c', etc, 'check'], { timeout: Math.max(1000, deadline - Date.now()) }).catch((err: Error & { stderr?: string }) => {
      throw new Error(`postfix check failed: ${err.stderr ?? err.message}\n${readLog(dir)}`);
    });

    let lastFailure = '';
    // The port is found free and then released before Postfix binds it: if something takes it in
    // between, the master logs "Address already in use" and exits, and another port is tried.
    for (let attempt = 1; attempt <= 5; attempt++) {
      if (attempt > 1) {
        port = await freePort();
        writeFileSync(join(etc, 'master.cf'), masterCf(port));
      }
      const started = await startMaster(master, { etc, spool, hostname, port, dir, deadline });
      if (started.ok) return handle(started.child, { dir, port, hostname, version });
      lastFailure = started.reason;
      if (!/Address already in use/.test(started.reason)) break;
    }
    throw new Error(`Postfix did not start: ${lastFailure}`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

interface Paths {
  readonly dir: string;
  readonly etc: string;
  readonly spool: string;
  readonly data: string;
  readonly mail: string;
  readonly hostname: string;
  readonly domain: string;
  readonly nobody: { uid: number; gid: number };
}

function mainCf(p: Paths): string {
  return `# A private test instance: see test/helpers/postfix.ts.
compatibility_level = 3.6
queue_directory = ${p.spool}
data_directory = ${p.data}
mail_owner = postfix
setgid_group = postdrop
myhostname = ${p.hostname}
mydomain = ${p.domain}
myorigin = $myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8

# No syslog here: log to a file in the temp directory, through the postlog service (master.cf).
maillog_file = ${p.dir}/maillog
maillog_file_prefixes = ${p.dir}

# Only the test domain, as virtual mailboxes (Maildirs under mail/); no local delivery, no
# aliases. Unknown users of the domain get 550 5.1.1 at RCPT (smtpd_reject_unlisted_recipient).
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
virtual_mailbox_domains = ${p.domain}
virtual_mailbox_maps = texthash:${p.etc}/vmailbox
virtual_mailbox_base = ${p.mail}
virtual_uid_maps = static:${p.nobody.uid}
virtual_gid_maps = static:${p.nobody.gid}
smtpd_relay_restrictions = reject_unauth_destination

# Nothing may leave loopback: every non-local transport fails, no DNS for client names.
default_transport = error:outbound mail is disabled in this test instance
relay_transport = error:outbound mail is disabled in this test instance
smtpd_peername_lookup = no
biff = no

# Keep the message as it came: no header rewriting or added headers for this (loopback) client,
# and no headers dropped (Postfix drops Return-Path, Bcc, Content-Length by default).
local_header_rewrite_clients =
message_drop_headers =

# STARTTLS with a self-signed certificate; the Received header names protocol and cipher.
smtpd_tls_cert_file = ${p.etc}/cert.pem
smtpd_tls_key_file = ${p.etc}/key.pem
smtpd_tls_security_level = may
smtpd_tls_received_header = yes
smtpd_tls_loglevel = 1
`;
}

/** The services this instance needs, none chrooted (5th column n): the temp dir has no jail. */
function masterCf(port: number): string {
  return `127.0.0.1:${port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;
}

type MasterStart = { ok: true; child: ChildProcess } | { ok: false; reason: string };

/**
 * Runs the master daemon in the foreground as our child, and waits for the SMTP greeting.
 *
 * POSTLOG_SERVICE/POSTLOG_HOSTNAME in its environment (as `postfix start` sets them) make the
 * master write its own start-up errors (e.g. a port in use) to maillog_file before postlogd
 * runs; without them those errors are lost and the master just exits 1. `-e 900` makes an
 * instance orphaned by a crashed test process go away by itself.
 */
async function startMaster(master: string, p: { etc: string; spool: string; hostname: string; port: number; dir: string; deadline: number }): Promise<MasterStart> {
  const child = spawn(master, ['-c', p.etc, '-s', '-e', '900'], {
    cwd: p.spool,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', MAIL_CONFIG: p.etc, POSTLOG_SERVICE: join(p.spool, 'public', 'postlog'), POSTLOG_HOSTNAME: p.hostname },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  child.on('error', (err) => (output += `spawn: ${err.message}\n`));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let exited: string | null = null;
  const exit = new Promise<null>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `the master exited (${signal ?? `code ${code}`})`;
      resolve(null);
    }),
  );

  for (;;) {
    if (exited) return { ok: false, reason: `${exited} before greeting on port ${p.port}\n${output}${readLog(p.dir)}` };
    if (Date.now() > p.deadline) {
      child.kill('SIGKILL');
      await exit;
      return { ok: false, reason: `no SMTP greeting on 127.0.0.1:${p.port} in time\n${output}${readLog(p.dir)}` };
    }
    // Connecting is the readiness signal: the master binds the port, smtpd greets on demand.
    const greeting = await Promise.race([readGreeting(p.port), exit]);
    if (greeting?.startsWith('220 ')) return { ok: true, child };
    if (!exited) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function handle(child: ChildProcess, p: { dir: string; port: number; hostname: string; version: string }): PrivatePostfix {
  const mailbox = (box: string): string => join(p.dir, 'mail', box, 'new');
  const findMessage = (box: string, queueId: string): Buffer | undefined => {
    for (const name of readdirSync(mailbox(box))) {
      const file = readFileSync(join(mailbox(box), name));
      const headEnd = file.indexOf('\n\n');
      if (new RegExp(`\\bid ${queueId}\\b`).test(file.subarray(0, headEnd === -1 ? file.length : headEnd).toString('latin1'))) return file;
    }
    return undefined;
  };
  return {
    host: '127.0.0.1',
    port: p.port,
    hostname: p.hostname,
    version: p.version,
    dir: p.dir,
    log: () => readLog(p.dir),
    delivered: (box) => readdirSync(mailbox(box)).sort(),
    waitForMessage(box, queueId, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const watcher = watch(mailbox(box));
        // A rescan now and then as well, in case a rename event is ever missed.
        const poll = setInterval(check, 1000);
        const timer = setTimeout(() => {
          done();
          reject(new Error(`Postfix did not deliver ${queueId} to ${box}'s Maildir in ${timeoutMs} ms; Maildir: ${JSON.stringify(readdirSync(mailbox(box)))}\n${readLog(p.dir)}`));
        }, timeoutMs);
        function done(): void {
          watcher.close();
          clearInterval(poll);
          clearTimeout(timer);
        }
        function check(): void {
          const file = findMessage(box, queueId);
          if (!file) return;
          done();
          resolve(file);
        }
        watcher.on('change', check);
        watcher.on('error', (err) => {
          done();
          reject(err);
        });
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(p.dir, { recursive: true, force: true });
    },
  };
}

function readLog(dir: string): string {
  try {
    return `--- Postfix log (${join(dir, 'maillog')}) ---\n${readFileSync(join(dir, 'maillog'), 'utf8')}`;
  } catch {
    return '--- no Postfix log ---\n';
  }
}

function passwdEntry(user: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no "${user}" user in /etc/passwd (the Debian "postfix" package creates "postfix"; "nobody" is in every Debian system)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** The first line of the server's greeting, or null if nothing (yet) answers. */
function readGreeting(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    const fail = (): void => {
      socket.destroy();
      resolve(null);
    };
    socket.setTimeout(5000, fail);
    socket.on('error', fail);
    socket.on('close', fail);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end === -1) return;
      resolve(text.slice(0, end));
      socket.end('QUIT\r\n');
    });
  });
}
