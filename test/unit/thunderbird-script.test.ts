/**
 * The parts of scripts/thunderbird-screenshots.ts that run without Thunderbird (the script
 * itself needs Thunderbird and Xvfb and is not part of `npm test`): Marionette's framing, and
 * the profile it writes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { frame, readFrames } from '../../scripts/thunderbird/marionette.js';
import { writeProfile } from '../../scripts/thunderbird/profile.js';

describe('Marionette framing', () => {
  const messages = [{ applicationType: 'gecko', marionetteProtocol: 3 }, [1, 1, null, { value: 'Grüße, 受信箱 📬' }], [1, 2, { error: 'no such window', message: 'gone' }, null]];
  const wire = Buffer.concat(messages.map(frame));

  it('prefixes the length in bytes of the UTF-8 JSON, not in characters', () => {
    const bytes = frame({ text: 'é' });
    expect(bytes.toString('utf8')).toBe('13:{"text":"é"}');
  });

  it('reads every message whatever the chunks, keeping a partial one for later', () => {
    for (let cut = 0; cut <= wire.length; cut++) {
      const first = readFrames(wire.subarray(0, cut));
      const second = readFrames(Buffer.concat([first.rest, wire.subarray(cut)]));
      expect([...first.messages, ...second.messages]).toEqual(messages);
      expect(second.rest.length).toBe(0);
    }
  });

  it('refuses a message without a decimal length', () => {
    expect(() => readFrames(Buffer.from('{"a":1}'))).toThrow(/without a length/);
    expect(() => readFrames(Buffer.from('x7:{"a":1}'))).toThrow(/without a length/);
  });
});

describe('the Thunderbird profile', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function prefs(security?: 'none' | 'starttls'): Promise<Map<string, unknown>> {
    dir = await mkdtemp(path.join(tmpdir(), 'kotak-tb-profile-'));
    await writeProfile(dir, { imapPort: 1143, smtpPort: 1025, userName: 'me', email: 'me@example.com', fullName: 'Me', accountName: 'Kotak', security });
    const text = await readFile(path.join(dir, 'user.js'), 'utf8');
    const entries = new Map<string, unknown>();
    for (const line of text.trim().split('\n')) {
      const match = /^user_pref\((".*?"), (.*)\);$/.exec(line);
      expect(match, line).not.toBeNull();
      entries.set(JSON.parse(match![1]!) as string, JSON.parse(match![2]!));
    }
    return entries;
  }

  it('has one IMAP account on Kotak: 127.0.0.1, the port, no TLS, a normal password, the user name', async () => {
    const user = await prefs();
    expect(user.get('mail.accountmanager.defaultaccount')).toBe('account1');
    expect(user.get('mail.server.server1.type')).toBe('imap');
    expect(user.get('mail.server.server1.hostname')).toBe('127.0.0.1');
    expect(user.get('mail.server.server1.port')).toBe(1143);
    expect(user.get('mail.server.server1.socketType')).toBe(0);
    expect(user.get('mail.server.server1.authMethod')).toBe(3);
    expect(user.get('mail.server.server1.userName')).toBe('me');
    expect(user.get('mail.smtpserver.smtp1.port')).toBe(1025);
    expect(user.get('marionette.port')).toBe(0);
  });

  it('asks for STARTTLS when told to (socketType 2), still with a normal password', async () => {
    const user = await prefs('starttls');
    expect(user.get('mail.server.server1.socketType')).toBe(2);
    expect(user.get('mail.server.server1.authMethod')).toBe(3);
  });

  it('points nothing Thunderbird fetches on its own past 127.0.0.1', async () => {
    const user = await prefs();
    for (const [name, value] of user) {
      if (typeof value === 'string' && /^[a-z]+:\/\//.test(value)) expect(new URL(value).hostname, name).toBe('127.0.0.1');
    }
    for (const name of ['app.update.auto', 'extensions.update.enabled', 'toolkit.telemetry.enabled', 'datareporting.healthreport.uploadEnabled', 'mailnews.start_page.enabled', 'mail.shell.checkDefaultClient', 'mail.provider.enabled', 'mailnews.auto_config.guess.enabled']) {
      expect(user.get(name), name).toBe(false);
    }
    expect(user.get('mailnews.message_display.disable_remote_image')).toBe(true);
  });
});
