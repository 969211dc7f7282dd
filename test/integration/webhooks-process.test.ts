/**
 * Webhooks and the `kotak` process: every message a killed Kotak answered 250 for is delivered after
 * it restarts on the same file (kill -9 while the endpoint was down, one request in flight), and
 * settings that cannot work stop it at start with exit code 2.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runKotak, startKotakProcess, type KotakProcess } from '../helpers/child.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const dir = mkdtempSync(join(tmpdir(), 'kotak-webhooks-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children: KotakProcess[] = [];
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  for (const { child } of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function start(args: string[]): Promise<KotakProcess> {
  const k = await startKotakProcess(['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', ...args]);
  children.push(k);
  return k;
}

describe('webhooks across kill -9', () => {
  it('deliver every message answered 250 before the kill, at least once, after a restart on the same file', async () => {
    const r = await WebhookReceiver.start();
    receivers.push(r);
    // Down: the first request is held unanswered (so it is in flight at the kill), the rest wait behind it.
    r.answerWith('hang');
    const db = join(dir, 'killed.db');
    const args = ['--db', db, '--webhook', r.url, '--webhook-timeout', '10m'];
    const first = await start(args);
    const mail = nodemailer.createTransport({ host: '127.0.0.1', port: first.smtpPort, secure: false, ignoreTLS: true });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const info = await mail.sendMail({ from: 'app@example.test', to: 'alice@example.test', subject: `Before the kill ${i}`, text: `${i}` });
      expect(info.response).toMatch(/^250 /);
      ids.push(/queued as (\S+)/.exec(info.response)![1]!);
    }
    mail.close();
    await r.waitFor((got) => got.length >= 1);
    const killed = once(first.child, 'exit');
    first.child.kill('SIGKILL');
    expect(await killed).toEqual([null, 'SIGKILL']);

    r.answerWith(200);
    r.release(503);
    await start(args);
    await r.waitFor(() => r.uniqueBodies().length >= ids.length);
    const delivered = r.uniqueBodies();
    expect(delivered.map((b) => b.data.id)).toEqual(ids);
    expect(delivered.every((b) => b.type === 'message:stored')).toBe(true);
    // The one in flight at the kill was sent again with the same delivery id.
    const inFlight = r.received[0]!.body.id as string;
    expect(r.received.filter((g) => g.body.id === inFlight).length).toBeGreaterThanOrEqual(2);
  });
});

describe('webhook settings at start', () => {
  const base = ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--db', ':memory:'];

  it.each([
    [['--webhook', 'ftp://user:s3cr3t-pw@files.test/in'], /^kotak: --webhook: "ftp:\/\/user@files\.test\/in" is not an http:\/\/ or https:\/\/ URL\n$/],
    [['--webhook', 'http://127.0.0.1:9/h', '--webhook-events', 'message:stored,message:burned'], /^kotak: --webhook-events: unknown event "message:burned"; known: message:stored, .*relay:updated\n$/],
    [['--webhook', 'http://127.0.0.1:9/h', '--webhook-format', 'mailpit', '--webhook-events', 'message:stored,message:deleted'], /^kotak: --webhook-format: mailpit: .*needs --webhook-events message:stored alone/],
  ])('%j: exit 2 with the reason, the password never shown', async (args, message) => {
    const { code, stdout, stderr } = await runKotak([...base, ...args]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(stderr).not.toContain('s3cr3t-pw');
  });
});
