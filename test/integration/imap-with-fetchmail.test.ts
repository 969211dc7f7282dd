/**
 * Debian's fetchmail over IMAP with `idle` (issue 21): it retrieves what is waiting, enters IDLE,
 * and retrieves a message sent by SMTP during that session when Kotak's `* N EXISTS` wakes it,
 * on the same connection; in plaintext, after STARTTLS, and over implicit TLS. Each message goes to an MDA that moves it whole into a directory the
 * test watches; `--invisible` leaves out fetchmail's Received header and `no stripcr` keeps CRLFs,
 * so what arrives is Kotak's raw message byte for byte.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KotakOptions } from '../../src/index.js';
import { rawOf, tempDir, withImapKotak, type ImapKotak } from '../helpers/imap-kotak.js';
import { simpleMessage } from '../helpers/seed.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

/** Resolves with the messages delivered into `dir` (files named msg.*) once `done` holds for them, waking on each change. */
async function delivered(dir: string, done: (messages: Buffer[]) => boolean): Promise<Buffer[]> {
  const read = (): Buffer[] => readdirSync(dir).filter((name) => name.startsWith('msg.')).sort().map((name) => readFileSync(join(dir, name)));
  const watcher = watch(dir);
  try {
    for (let messages = read(); ; messages = read()) {
      if (done(messages)) return messages;
      await once(watcher, 'change');
    }
  } finally {
    watcher.close();
  }
}

/** Resolves once the child's output (stdout and stderr together) matches `pattern`. */
async function outputMatches(child: ChildProcess, output: { text: string }, pattern: RegExp): Promise<void> {
  while (!pattern.test(output.text)) {
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (exited) throw new Error(`fetchmail exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${output.text}`);
    await Promise.race([once(child.stdout!, 'data'), once(child.stderr!, 'data'), once(child, 'exit')]);
  }
}

describe('IMAP with fetchmail --idle', () => {
  const running: ImapKotak[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await Promise.all(running.splice(0).map((kotak) => kotak.stop()));
  });

  async function start(options: KotakOptions = {}): Promise<ImapKotak> {
    const kotak = await withImapKotak(options);
    running.push(kotak);
    return kotak;
  }

  /**
   * One fetchmail session (`tls`: its rcfile words for TLS): the waiting message, then IDLE, then
   * a message sent by SMTP meanwhile; each compared with the API's raw bytes. Returns its log.
   */
  async function idleSession(kotak: ImapKotak, tls: string): Promise<string> {
    const waiting = queuedId(await sendRaw(kotak.smtpPort, simpleMessage('waiting before fetchmail', 'Already here.')));
    const home = tempDir('fetchmail-idle');
    const out = join(home, 'out');
    mkdirSync(out);
    // The MDA writes beside the directory, then renames: a file named msg.* is complete.
    const deliver = join(home, 'deliver');
    writeFileSync(deliver, `#!/bin/sh\nt=$(mktemp ${home}/part.XXXXXX) && cat > "$t" && mv "$t" "${out}/msg.$(date +%s%N)"\n`, { mode: 0o755 });
    const rc = join(home, 'fetchmailrc');
    writeFileSync(
      rc,
      [
        'set no syslog',
        `poll 127.0.0.1 protocol imap port ${kotak.imapPort} auth password no envelope`,
        `  user "tester" password "secret" is "${userInfo().username}" here`,
        `  options keep idle no rewrite no stripcr no forcecr no dropstatus no dropdelivered ${tls}`,
        `  mda "${deliver}"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const fetchmail = spawn('fetchmail', ['-f', rc, '--idle', '--invisible', '-v', '--nosyslog', '--nodetach'], {
      env: { ...process.env, HOME: home, FETCHMAILHOME: home, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(fetchmail);
    const output = { text: '' };
    fetchmail.stdout!.on('data', (d: Buffer) => (output.text += d.toString()));
    fetchmail.stderr!.on('data', (d: Buffer) => (output.text += d.toString()));

    const first = await delivered(out, (messages) => messages.length > 0);
    expect(first).toHaveLength(1);
    expect(first[0]!.equals(await rawOf(kotak, waiting))).toBe(true);
    await outputMatches(fetchmail, output, /IMAP> A\d+ IDLE/);
    await outputMatches(fetchmail, output, /IMAP< \+/);

    const during = queuedId(await sendRaw(kotak.smtpPort, simpleMessage('sent while fetchmail idles', 'Arrived during the session.')));
    const raw = await rawOf(kotak, during);
    const all = await delivered(out, (messages) => messages.some((m) => m.equals(raw)));
    // Only the new one: the first, marked \Seen by fetchmail, is not fetched again.
    expect(all).toHaveLength(2);
    // Woken by the server's EXISTS, on the same connection (one login).
    expect(output.text).toMatch(/IMAP< \* 2 EXISTS/);
    expect(output.text.match(/IMAP> A\d+ LOGIN/g)).toHaveLength(1);
    return output.text;
  }

  it('retrieves the waiting message, idles, and retrieves one sent by SMTP during the session', async () => {
    const log = await idleSession(await start(), "sslproto ''");
    expect(log).not.toContain('STARTTLS');
  });

  it('does the same after upgrading with STARTTLS', async () => {
    const log = await idleSession(await start({ imapTls: 'auto' }), 'sslproto tls1.2+ no sslcertck');
    expect(log).toMatch(/IMAP> A\d+ STARTTLS/);
    expect(log).toContain('upgrade to TLS succeeded');
  });

  it('does the same over implicit TLS (fetchmail --ssl)', async () => {
    const log = await idleSession(await start({ imapTls: 'auto', imapTlsImplicit: true }), 'ssl no sslcertck');
    expect(log).toMatch(/SSL\/TLS: using protocol TLSv1\.[23]/);
  });
});
