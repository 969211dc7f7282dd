/**
 * Thunderbird against Kotak's IMAP, for real (issue 21): the README's screenshots, and a check
 * that a real synchronising client reads and changes Kotak's folders.
 *
 *   npm run docs:thunderbird        (builds dist/, then: tsx scripts/thunderbird-screenshots.ts)
 *   tsx scripts/thunderbird-screenshots.ts [--out DIR] [--keep-profile] [--timeout SECONDS] [--starttls]
 *
 * Needs `thunderbird` and `Xvfb` on the PATH (Debian: `apt-get install thunderbird xvfb`) and a
 * built dist/. Starts `kotak` (IMAP on 1143 when that port is free, else on any free port, all on
 * 127.0.0.1; a login file with the user `me`), sends it a few messages over SMTP, writes a
 * throwaway Thunderbird profile with an IMAP account on it (scripts/thunderbird/profile.ts), runs
 * Thunderbird on a private Xvfb display with Marionette (Gecko's remote protocol) on, and through
 * Marionette (scripts/thunderbird/driver.ts):
 * - syncs the account: INBOX must list Kotak's messages and the `billing` folder its one;
 * - opens a message: Kotak must then have it read (\Seen);
 * - photographs the message list and the account's Server Settings into docs/images/ (or --out);
 * - tags a message Important and marks it unread, moves one to `billing`, deletes one: Kotak must
 *   show the tag ($label1) and the read state, the message in its billing mailbox, the deleted one gone;
 * - marks a message read through Kotak's API: Thunderbird, idling, must show it read;
 * - sends one more over SMTP: Thunderbird, idling, must list it.
 * Any of those not happening within --timeout (120 s a step) fails the run (exit 1, saying which).
 * Printed at the end: Kotak's warnings and refused IMAP commands or logins, the NO/BAD answers
 * Thunderbird got (from its own IMAP log, MOZ_LOG), and the errors on its Error Console.
 * --keep-profile keeps the temporary directory (profile, Kotak's database, Thunderbird's IMAP log).
 * --starttls runs the same check over STARTTLS (Kotak's `--imap-tls auto`, its self-signed
 * certificate trusted as a user would confirm it), without screenshots.
 *
 * Every process it starts (Kotak, Xvfb, Thunderbird with its child processes) and the profile are
 * removed on the way out, on failure and Ctrl-C too. Nothing leaves 127.0.0.1: the profile turns
 * off updates, telemetry, add-on checks, remote content, the start page and the account wizard.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import bcrypt from 'bcryptjs';
import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';
import type tls from 'node:tls';
import { startKotakProcess, type KotakProcess } from '../test/helpers/child.js';
import { ImapTestClient } from '../test/helpers/imap.js';
import { ThunderbirdDriver } from './thunderbird/driver.js';
import { MarionetteClient } from './thunderbird/marionette.js';
import { BILLING_MESSAGES, BILLING_ROUTE, INBOX_MESSAGES, LATE_MESSAGE } from './thunderbird/messages.js';
import { writeProfile } from './thunderbird/profile.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: new URL('../docs/images/', import.meta.url).pathname },
    'keep-profile': { type: 'boolean', default: false },
    timeout: { type: 'string', default: '120' },
    starttls: { type: 'boolean', default: false },
  },
});

/** How long one step may take before the run fails (--timeout, seconds): Thunderbird's first start is slow on a busy machine. */
const STEP_TIMEOUT_MS = Number(values.timeout) * 1000;
if (!(STEP_TIMEOUT_MS > 0)) throw new Error(`--timeout ${values.timeout}: a number of seconds, above 0`);
/** The Xvfb screen, and Thunderbird's window on it. */
const SCREEN = { width: 1280, height: 800 };
/** IMAP's conventional port, the one the README names, when nothing else holds it. */
const PREFERRED_IMAP_PORT = 1143;
const ACCOUNT = { userName: 'me', email: 'me@example.com', fullName: 'Me', accountName: 'Kotak' };
/** The account's password: in Kotak's login file (bcrypt), and given to Thunderbird in memory only. */
const PASSWORD = 'kotak-thunderbird';
/** The HTML message with a link, opened in the screenshot; the text its body must show. */
const OPENED_SUBJECT = 'Confirm your account';
const OPENED_TEXT = 'Please confirm your email address';
/** Deleted in Thunderbird after the screenshots. */
const DELETED_SUBJECT = 'Your sign-in code is 482913';
/** Moved to the billing folder in Thunderbird after the screenshots. */
const MOVED_SUBJECT = 'Welcome to Acme, Me!';

class RunFailure extends Error {}

/** Kotak's warnings and refusals during the run (watchKotakLog), printed at the end, on failure too. */
const kotakNotes: string[] = [];

/** Set once the run asks Thunderbird to quit or cleans up: its exit is expected from then on. */
let stopping = false;
/** Set when something the run needs (Thunderbird) is gone: every wait fails with it at once. */
let fatal: Error | null = null;

/** Stops what the run started, last first. */
const cleanups: (() => Promise<void>)[] = [];

let cleaning: Promise<void> | null = null;

/** Runs the cleanups once; a second caller (a signal during a failure, say) waits for the same run. */
function cleanUp(): Promise<void> {
  stopping = true;
  cleaning ??= (async () => {
    for (const step of cleanups.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        console.error('cleanup:', error instanceof Error ? error.message : error);
      }
    }
  })();
  return cleaning;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Stops a child (a process-group leader: its whole group) and waits for it to exit; SIGKILL after 10 s. */
async function stopChild(child: ChildProcess, group: boolean): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  const pid = child.pid;
  const exit = once(child, 'exit');
  const signal = (name: NodeJS.Signals): void => {
    try {
      if (group) process.kill(-pid, name);
      else child.kill(name);
    } catch {
      // Gone already.
    }
  };
  signal('SIGTERM');
  // Unref'd: a child that stops at once must not keep this process waiting out the 10 s.
  const done = await Promise.race([exit.then(() => true), delay(10_000, undefined, { ref: false }).then(() => false)]);
  if (!done) {
    signal('SIGKILL');
    await exit;
  }
  // Thunderbird's content processes share its group and may outlive it by a moment.
  if (group) signal('SIGKILL');
}

/** Polls `probe` every 250 ms until it returns something other than undefined, or fails saying `what`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    if (fatal) throw fatal;
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new RunFailure(`gave up after ${STEP_TIMEOUT_MS / 1000} s waiting for ${what}${why}`);
    }
    await delay(250);
  }
}

function onPath(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' });
    child.once('exit', (code) => resolve(code === 0));
    child.once('error', () => resolve(false));
  });
}

/** True when `port` on 127.0.0.1 can be bound right now. */
async function portFree(port: number): Promise<boolean> {
  const server = net.createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    server.close();
    await once(server, 'close');
    return true;
  } catch {
    return false;
  }
}

/** Kotak's log lines worth reporting: warnings, errors, and IMAP commands and logins it refused. */
function watchKotakLog(kotak: KotakProcess, notes: string[]): void {
  let partial = '';
  kotak.child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const entry = JSON.parse(line) as { level: number; msg: string };
      if (entry.level >= 40 || /^imap (command|authentication)/.test(entry.msg)) notes.push(line);
    }
  });
}

/**
 * Kotak with a real login file (not `--imap-auth any`), so a wrong user name or password from
 * Thunderbird fails the run, as it would fail a user.
 */
async function startKotak(dir: string, notes: string[]): Promise<KotakProcess> {
  const imapPort = (await portFree(PREFERRED_IMAP_PORT)) ? PREFERRED_IMAP_PORT : 0;
  const logins = path.join(dir, 'imap-logins');
  await writeFile(logins, `${ACCOUNT.userName}:${bcrypt.hashSync(PASSWORD, 10)}\n`);
  const kotak = await startKotakProcess([
    '--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--imap', `127.0.0.1:${imapPort}`, '--imap-auth', logins,
    '--mailbox-route', BILLING_ROUTE, '--db', path.join(dir, 'kotak.db'), '--log-level', 'debug', '--log-format', 'json',
    ...(values.starttls ? ['--imap-tls', 'auto'] : []),
  ]);
  cleanups.push(() => stopChild(kotak.child, false));
  watchKotakLog(kotak, notes);
  return kotak;
}

async function send(smtpPort: number, messages: readonly SendMailOptions[]): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
  try {
    for (const message of messages) await transport.sendMail(message);
  } finally {
    transport.close();
  }
}

/** The fields of GET /api/messages' rows the checks read. */
interface KotakMessage {
  readonly subject: string;
  readonly mailbox: string;
  readonly read: boolean;
  readonly tags: readonly string[];
}

/** Waits until Kotak's API lists messages that satisfy `test`. */
async function waitForKotak(url: string, what: string, test: (messages: readonly KotakMessage[]) => boolean): Promise<void> {
  await waitFor(what, async () => {
    const response = await fetch(`${url}/api/messages?limit=100`);
    if (response.status !== 200) throw new Error(`GET /api/messages: ${response.status}`);
    const body = (await response.json()) as { messages: KotakMessage[] };
    return test(body.messages) ? true : undefined;
  });
}

/** Marks a message read as the web inbox does: PATCH /api/messages/:id. */
async function markReadInKotak(url: string, subject: string): Promise<void> {
  const list = (await (await fetch(`${url}/api/messages?limit=100`)).json()) as { messages: (KotakMessage & { id: string })[] };
  const message = list.messages.find((m) => m.subject === subject);
  if (!message) throw new RunFailure(`Kotak has no message "${subject}"`);
  const response = await fetch(`${url}/api/messages/${message.id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ read: true }) });
  if (response.status !== 200) throw new RunFailure(`PATCH /api/messages/${message.id}: ${response.status}`);
}

/** The certificate Kotak's IMAP shows after STARTTLS, base64 DER (as Thunderbird's security exception would hold it). */
async function imapCertificate(port: number): Promise<string> {
  const client = await ImapTestClient.connect(port);
  try {
    await client.readResponse();
    const answer = await client.command('a', 'STARTTLS');
    if (!answer.tagged.startsWith('a OK')) throw new RunFailure(`STARTTLS: ${answer.tagged}`);
    await client.upgrade();
    return (client.socket as tls.TLSSocket).getPeerX509Certificate()!.raw.toString('base64');
  } finally {
    client.close();
  }
}

/** Starts Xvfb on a display number it picks itself (-displayfd), so runs never collide. */
async function startXvfb(): Promise<string> {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${SCREEN.width}x${SCREEN.height}x24`, '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => stopChild(xvfb, false));
  let stderr = '';
  xvfb.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const displayPipe = xvfb.stdio[3] as NodeJS.ReadableStream;
  return new Promise<string>((resolve, reject) => {
    let text = '';
    displayPipe.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(`:${text.trim()}`);
    });
    xvfb.once('exit', (code) => reject(new RunFailure(`Xvfb exited with ${code}: ${stderr.trim()}`)));
    xvfb.once('error', reject);
  });
}

function withoutHeadless(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MOZ_HEADLESS: _headless, ...rest } = env;
  return rest;
}

function startThunderbird(profileDir: string, display: string, logDir: string): ChildProcess {
  // --remote-allow-system-access: Marionette may run chrome-context scripts (Thunderbird's own UI).
  const thunderbird = spawn('thunderbird', ['--profile', profileDir, '--no-remote', '--marionette', '--remote-allow-system-access'], {
    // Its own process group, so its content processes stop with it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      // Not headless (MOZ_HEADLESS would leave no window to photograph): on the Xvfb display.
      ...withoutHeadless(process.env),
      DISPLAY: display,
      // Thunderbird's side of the IMAP conversation, read afterwards for NO and BAD answers.
      MOZ_LOG: 'IMAP:5,timestamp,sync',
      MOZ_LOG_FILE: path.join(logDir, 'thunderbird.log'),
      MOZ_CRASHREPORTER_DISABLE: '1',
    },
  });
  cleanups.push(() => stopChild(thunderbird, true));
  let output = '';
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-4000));
  thunderbird.stdout!.on('data', keep);
  thunderbird.stderr!.on('data', keep);
  thunderbird.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`thunderbird's last output:\n${output}`);
    fatal = new RunFailure(`thunderbird exited (${code ?? signal}) before the run was done`);
  });
  return thunderbird;
}

/** Marionette writes the port it listens on into the profile (marionette.port 0). */
async function connectMarionette(profileDir: string): Promise<MarionetteClient> {
  const port = await waitFor('Marionette to listen (MarionetteActivePort in the profile)', async () => {
    const text = await readFile(path.join(profileDir, 'MarionetteActivePort'), 'utf8').catch(() => '');
    const port = Number(text.trim());
    return port > 0 ? port : undefined;
  });
  const client = await MarionetteClient.connect(port);
  cleanups.push(async () => client.close());
  await client.send('WebDriver:NewSession', { capabilities: {} });
  await client.send('Marionette:SetContext', { value: 'chrome' });
  return client;
}

async function screenshot(thunderbird: ThunderbirdDriver, name: string): Promise<void> {
  const png = await thunderbird.screenshot();
  const file = path.join(values.out, name);
  await writeFile(file, png);
  console.log(`screenshot: ${file} (${Math.round(png.length / 1024)} KB)`);
}

/** The tagged NO and BAD answers in Thunderbird's IMAP log: what Kotak told it it would not do. */
async function imapRefusals(logDir: string): Promise<string[]> {
  const refusals: string[] = [];
  for (const name of await readdir(logDir)) {
    if (!name.startsWith('thunderbird.log')) continue;
    const text = await readFile(path.join(logDir, name), 'utf8');
    for (const line of text.split('\n')) {
      const answer = /CreateNewLineFromSocket: (\S+ (?:NO|BAD) .*)$/.exec(line);
      if (answer) refusals.push(answer[1]!);
    }
  }
  return refusals;
}

async function quitThunderbird(thunderbird: ThunderbirdDriver, child: ChildProcess): Promise<void> {
  stopping = true;
  const exit = exited(child) ? Promise.resolve() : once(child, 'exit').then(() => undefined);
  // The connection may close before the answer arrives: Thunderbird is gone then, as asked.
  await thunderbird.quit().catch(() => undefined);
  await waitFor('Thunderbird to quit', async () => (exited(child) ? true : undefined));
  await exit;
}

async function main(): Promise<void> {
  for (const command of ['thunderbird', 'Xvfb']) {
    if (!(await onPath(command))) throw new RunFailure(`${command} is not on the PATH (Debian: apt-get install thunderbird xvfb)`);
  }
  const workDir = await mkdtemp(path.join(tmpdir(), 'kotak-thunderbird-'));
  if (values['keep-profile']) console.log(`profile and logs kept in ${workDir}`);
  else cleanups.push(() => rm(workDir, { recursive: true, force: true }));
  const profileDir = path.join(workDir, 'profile');
  await mkdir(profileDir);

  const kotak = await startKotak(workDir, kotakNotes);
  const imapPort = kotak.imapPort!;
  console.log(`kotak: SMTP ${kotak.smtpPort}, IMAP ${imapPort}, ${kotak.url}`);
  await send(kotak.smtpPort, [...INBOX_MESSAGES, ...BILLING_MESSAGES]);

  await writeProfile(profileDir, { ...ACCOUNT, imapPort, smtpPort: kotak.smtpPort, security: values.starttls ? 'starttls' : 'none' });
  const display = await startXvfb();
  const child = startThunderbird(profileDir, display, workDir);
  const thunderbird = new ThunderbirdDriver(await connectMarionette(profileDir), waitFor);
  console.log(`thunderbird: running on Xvfb ${display}, Marionette session open`);
  await thunderbird.fitWindow(SCREEN.width, SCREEN.height);
  if (values.starttls) await thunderbird.trustCertificate(await imapCertificate(imapPort), imapPort);

  // The real-client check: what Kotak holds, Thunderbird lists; what Thunderbird does, Kotak keeps.
  await thunderbird.syncInbox(PASSWORD, INBOX_MESSAGES.length);
  console.log(`thunderbird: INBOX lists Kotak's ${INBOX_MESSAGES.length} messages`);
  await thunderbird.waitForFolder('billing', BILLING_MESSAGES.length);
  console.log(`thunderbird: the folder billing (Kotak's mailbox) holds its ${BILLING_MESSAGES.length} message`);
  await thunderbird.arrangePanes(230, 540);
  await thunderbird.openMessage(OPENED_SUBJECT, OPENED_TEXT);
  await waitForKotak(kotak.url, `"${OPENED_SUBJECT}", opened in Thunderbird, to be read in Kotak`, (messages) => messages.some((m) => m.subject === OPENED_SUBJECT && m.read));
  console.log(`kotak: "${OPENED_SUBJECT}", opened in Thunderbird, is read`);

  if (!values.starttls) {
    await mkdir(values.out, { recursive: true });
    await screenshot(thunderbird, 'thunderbird-inbox.png');
    await thunderbird.openServerSettings(imapPort);
    await screenshot(thunderbird, 'thunderbird-server-settings.png');
    await thunderbird.closeSettings();
  }

  await thunderbird.tagMessage(OPENED_SUBJECT, '$label1');
  await thunderbird.markRead(OPENED_SUBJECT, false);
  await waitForKotak(kotak.url, `"${OPENED_SUBJECT}", tagged Important and marked unread in Thunderbird, to be so in Kotak`, (messages) =>
    messages.some((m) => m.subject === OPENED_SUBJECT && !m.read && m.tags.includes('$label1')),
  );
  console.log(`kotak: "${OPENED_SUBJECT}", tagged Important ($label1) and marked unread in Thunderbird, is so`);
  await markReadInKotak(kotak.url, OPENED_SUBJECT);
  await thunderbird.waitForRead(OPENED_SUBJECT, true);
  console.log(`thunderbird: "${OPENED_SUBJECT}", marked read through Kotak's API, shows read`);
  await thunderbird.moveMessage(MOVED_SUBJECT, 'billing');
  await waitForKotak(kotak.url, `"${MOVED_SUBJECT}", moved to billing in Thunderbird, to be in Kotak's billing mailbox`, (messages) =>
    messages.some((m) => m.subject === MOVED_SUBJECT && m.mailbox === 'billing') && !messages.some((m) => m.subject === MOVED_SUBJECT && m.mailbox !== 'billing'),
  );
  console.log(`kotak: "${MOVED_SUBJECT}", moved to billing in Thunderbird, is in the billing mailbox only`);
  await thunderbird.deleteMessage(DELETED_SUBJECT);
  await waitForKotak(kotak.url, `"${DELETED_SUBJECT}", deleted in Thunderbird, to leave Kotak`, (messages) => !messages.some((m) => m.subject === DELETED_SUBJECT));
  console.log(`kotak: "${DELETED_SUBJECT}", deleted in Thunderbird, is gone`);
  await send(kotak.smtpPort, [LATE_MESSAGE]);
  await thunderbird.waitForRow(String(LATE_MESSAGE.subject));
  console.log(`thunderbird: "${LATE_MESSAGE.subject}", sent over SMTP while it idled, is listed`);

  const consoleErrors = await thunderbird.consoleErrors();
  await quitThunderbird(thunderbird, child);
  console.log(kotakNotes.length === 0 ? 'kotak: no warnings, no refused IMAP commands or logins' : `kotak logged:\n${kotakNotes.join('\n')}`);
  const refusals = await imapRefusals(workDir);
  console.log(refusals.length === 0 ? 'thunderbird: no NO or BAD answers from Kotak' : `thunderbird was answered:\n${refusals.join('\n')}`);
  console.log(consoleErrors.length === 0 ? "thunderbird: its Error Console is empty" : `thunderbird's Error Console:\n${consoleErrors.join('\n')}`);
}

let interrupted = false;
// `on`, not `once`: Ctrl-C reaches this process twice (from the terminal and relayed by npm and
// tsx), and a signal with no listener left would end the process before the cleanup is done.
const stopOnSignal = (signal: NodeJS.Signals): void => {
  if (interrupted) return;
  interrupted = true;
  console.error(`${signal}: cleaning up`);
  void cleanUp().then(() => process.exit(130));
};
process.on('SIGINT', stopOnSignal);
process.on('SIGTERM', stopOnSignal);

try {
  await main();
  console.log('thunderbird-screenshots: done');
} catch (error) {
  // After a signal, the steps fail because their processes are being stopped: not worth a word.
  if (!interrupted) {
    if (kotakNotes.length > 0) console.error(`kotak logged:\n${kotakNotes.join('\n')}`);
    // Thunderbird gone explains the step that failed with it (a closed Marionette connection, say).
    const reason = fatal ?? error;
    console.error(`thunderbird-screenshots failed: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
  process.exitCode = 1;
} finally {
  await cleanUp();
}
