/**
 * The empty inbox's one-liners (web/src/send-snippets.ts) work against Kotak as configured: with
 * AUTH and required STARTTLS on a certificate made at start, and with implicit TLS, the swaks and
 * nodemailer commands built from GET /api/smtp deliver, run through a shell as a person would.
 * And the address: the configured host, or the page's when SMTP listens on every interface.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { SmtpInfo } from '../../src/client/types.js';
import { nodemailerCommand, smtpAddress, swaksCommand } from '../../web/src/send-snippets.js';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';

const run = promisify(execFile);
const REPO = new URL('../../', import.meta.url).pathname;

describe('the one-liners of the empty inbox', () => {
  let kotak: RunningKotak | undefined;
  afterEach(async () => {
    await kotak?.stop();
    kotak = undefined;
  });

  for (const [what, options] of [
    ['AUTH (any password) and required STARTTLS, self-signed', { smtpAuth: 'any', smtpTls: 'auto', smtpRequireTls: true }],
    ['implicit TLS, self-signed', { smtpTls: 'auto', smtpTlsImplicit: true }],
  ] as const) {
    it(`deliver with ${what}`, async () => {
      kotak = await withKotak(options);
      const info = (await getJson<SmtpInfo>(kotak, '/api/smtp')).body;
      await run('sh', ['-c', swaksCommand(info, '127.0.0.1')], { cwd: REPO });
      await run('sh', ['-c', nodemailerCommand(info, '127.0.0.1')], { cwd: REPO });
      const { body } = await getJson(kotak, '/api/messages');
      expect(body.messages.map((m: { subject: string }) => m.subject).sort()).toEqual(['Hello from nodemailer', 'Hello from swaks']);
    });
  }

  it('name the page host when SMTP listens on every interface, and IPv6 in brackets', () => {
    const info: SmtpInfo = { host: '0.0.0.0', port: 2525, auth: 'off', tls: 'off', selfSigned: false };
    expect(smtpAddress(info, 'mail.example.test')).toBe('mail.example.test:2525');
    expect(smtpAddress({ ...info, host: '::' }, '[::1]')).toBe('[::1]:2525');
    expect(swaksCommand({ ...info, host: '::' }, '[::1]')).toContain('--server ::1 --port 2525');
    expect(smtpAddress({ ...info, host: '192.0.2.7' }, 'localhost')).toBe('192.0.2.7:2525');
    expect(swaksCommand({ ...info, auth: 'password' }, 'h')).toContain('--auth-user USER --auth-password PASSWORD');
  });
});
