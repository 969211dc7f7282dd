/**
 * GET /api/smtp: where to send mail (the web inbox's empty state shows it). The port is the one
 * bound, not the configured 0; AUTH and TLS say what a client must do; credentials are never in it;
 * with HTTP auth on it is behind the same gate as every other route.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';

describe('GET /api/smtp', () => {
  let kotak: RunningKotak | undefined;
  afterEach(async () => {
    await kotak?.stop();
    kotak = undefined;
  });

  it('names the address and the port actually bound, with no AUTH or TLS by default', async () => {
    kotak = await withKotak();
    const { status, body } = await getJson(kotak, '/api/smtp');
    expect(status).toBe(200);
    expect(body).toEqual({ host: '127.0.0.1', port: kotak.smtpPort, auth: 'off', tls: 'off', selfSigned: false });
    expect(kotak.smtpPort).toBeGreaterThan(0);
  });

  it('says AUTH is required and STARTTLS is required, with a certificate made at start', async () => {
    kotak = await withKotak({ smtpAuth: 'any', smtpTls: 'auto', smtpRequireTls: true });
    const { body } = await getJson(kotak, '/api/smtp');
    expect(body).toMatchObject({ auth: 'any', tls: 'required', selfSigned: true });
  });

  it('says TLS is implicit when it is', async () => {
    kotak = await withKotak({ smtpTls: 'auto', smtpTlsImplicit: true });
    expect((await getJson(kotak, '/api/smtp')).body).toMatchObject({ tls: 'implicit' });
  });

  it('is behind the HTTP credentials when they are on', async () => {
    kotak = await withKotak({ httpTokens: 'secret-token-123456' });
    expect((await getJson(kotak, '/api/smtp')).status).toBe(401);
    const { status, body } = await getJson(kotak, '/api/smtp', { headers: { Authorization: 'Bearer secret-token-123456' } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ port: kotak.smtpPort });
  });
});
