/** TLS material for STARTTLS / implicit TLS: a throwaway self-signed pair, or one loaded from disk. */

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';
import { KotakError } from '../errors.js';

export interface TlsMaterial {
  /** PEM */
  cert: string;
  /** PEM */
  key: string;
}

/**
 * EC P-256 rather than RSA because generation is near-instant, so it can run on every start.
 * Valid for one year (selfsigned's default) for the hostname plus the loopback names.
 */
export async function createSelfSignedCertificate(hostname: string): Promise<TlsMaterial> {
  const names = [...new Set([hostname, 'localhost', '127.0.0.1', '::1'].filter((n) => n !== ''))];
  const altNames = names.map((name) => (isIP(name) ? { type: 7 as const, ip: name } : { type: 2 as const, value: name }));
  const pems = await generate([{ name: 'commonName', value: names[0] }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      // EC keys sign the handshake; keyEncipherment only applies to RSA key exchange.
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Reads and validates a PEM pair up front, so a bad path or mismatched key fails at startup, not at the first STARTTLS. */
export async function loadCertificate(certPath: string, keyPath: string): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readPem(certPath, 'certificate'), readPem(keyPath, 'key')]);

  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new KotakError('invalid_config', `TLS certificate ${certPath} is not a valid PEM certificate`, { cause: err });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    // Error text only: the key's contents must never reach a log.
    throw new KotakError('invalid_config', `TLS key ${keyPath} is not a valid unencrypted PEM private key`, { cause: err });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new KotakError('invalid_config', `TLS key ${keyPath} does not match certificate ${certPath}`);
  }
  return { cert, key };
}

async function readPem(path: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new KotakError('invalid_config', `cannot read TLS ${what} ${path}: ${reason}`, { cause: err });
  }
  if (!text.includes('-----BEGIN ')) {
    throw new KotakError('invalid_config', `TLS ${what} ${path} is not PEM`);
  }
  return text;
}
