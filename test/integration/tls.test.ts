import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KotakError } from '../../src/errors.js';
import { createSelfSignedCertificate, loadCertificate, type TlsMaterial } from '../../src/smtp/tls.js';

/** Completes a real handshake against the material and returns what the client saw. */
async function handshake(material: TlsMaterial): Promise<{ cert: tls.PeerCertificate; protocol: string | null }> {
  const server = tls.createServer({ cert: material.cert, key: material.key }, (socket) => socket.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve({ cert: socket.getPeerCertificate(), protocol: socket.getProtocol() });
        socket.end();
      });
      socket.on('error', reject);
    });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('createSelfSignedCertificate', () => {
  let material: TlsMaterial;
  let elapsed: number;

  beforeAll(async () => {
    const started = performance.now();
    material = await createSelfSignedCertificate('mail.kotak.test');
    elapsed = performance.now() - started;
  });

  it('is fast', () => {
    expect(elapsed).toBeLessThan(1000);
  });

  it('serves a TLS handshake with the expected names', async () => {
    const { cert, protocol } = await handshake(material);
    expect(protocol).toMatch(/^TLSv1\.[23]$/);
    expect(cert.subject.CN).toBe('mail.kotak.test');
    expect(cert.subjectaltname).toBe('DNS:mail.kotak.test, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  });

  it('is an EC P-256 certificate valid for a year', () => {
    const x509 = new X509Certificate(material.cert);
    expect(x509.publicKey.asymmetricKeyType).toBe('ec');
    expect(x509.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const days = (Date.parse(x509.validTo) - Date.parse(x509.validFrom)) / 86_400_000;
    expect(days).toBeGreaterThanOrEqual(364);
    expect(days).toBeLessThanOrEqual(366);
    expect(Date.parse(x509.validFrom)).toBeLessThanOrEqual(Date.now());
  });

  it('lists an IP hostname once, as an IP address', async () => {
    const x509 = new X509Certificate((await createSelfSignedCertificate('127.0.0.1')).cert);
    expect(x509.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost, IP Address:0:0:0:0:0:0:0:1');
  });
});

describe('loadCertificate', () => {
  let dir: string;
  let material: TlsMaterial;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kotak-tls-'));
    material = await createSelfSignedCertificate('localhost');
    await writeFile(join(dir, 'cert.pem'), material.cert);
    await writeFile(join(dir, 'key.pem'), material.key);
    await writeFile(join(dir, 'other-key.pem'), (await createSelfSignedCertificate('localhost')).key);
    await writeFile(join(dir, 'junk.pem'), 'not a certificate');
    await writeFile(join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a matching pair that serves TLS', async () => {
    const loaded = await loadCertificate(join(dir, 'cert.pem'), join(dir, 'key.pem'));
    expect(loaded).toEqual(material);
    expect((await handshake(loaded)).cert.subject.CN).toBe('localhost');
  });

  it.each([
    ['a missing certificate', 'missing.pem', 'key.pem', /cannot read TLS certificate .*missing\.pem: ENOENT/],
    ['a missing key', 'cert.pem', 'missing.pem', /cannot read TLS key .*missing\.pem: ENOENT/],
    ['a non-PEM certificate', 'junk.pem', 'key.pem', /junk\.pem is not PEM/],
    ['a non-PEM key', 'cert.pem', 'junk.pem', /junk\.pem is not PEM/],
    ['a corrupt certificate', 'broken.pem', 'key.pem', /broken\.pem is not a valid PEM certificate/],
    ['a certificate given as the key', 'cert.pem', 'cert.pem', /cert\.pem is not a valid unencrypted PEM private key/],
    ['a key that does not match', 'cert.pem', 'other-key.pem', /other-key\.pem does not match certificate/],
  ])('rejects %s with invalid_config', async (_name, cert, key, message) => {
    const error = await loadCertificate(join(dir, cert), join(dir, key)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KotakError);
    expect((error as KotakError).code).toBe('invalid_config');
    expect((error as KotakError).message).toMatch(message);
    expect((error as KotakError).message).not.toContain('PRIVATE KEY');
  });
});
