/**
 * `kotak/webhooks`: checking a Kotak webhook's `Kotak-Signature` header on the receiving side, in
 * Node (it uses node:crypto, so it is not part of `kotak/client`, which also runs in browsers):
 *
 *   import { verifyKotakSignature } from 'kotak/webhooks';
 *   if (!verifyKotakSignature(secret, req.headers['kotak-signature'], rawBody, 300)) return res.status(400).end();
 *
 * The header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (Stripe's scheme); the body
 * must be the raw bytes received, before any JSON parsing. Pure apart from reading the clock.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * True when `header` carries a v1 signature of `body` under `secret`, made at most `toleranceSeconds`
 * from now (either way, for clocks that differ a little). `now` (ms) is for tests.
 */
export function verifyKotakSignature(secret: string, header: string | null | undefined, body: string | Uint8Array, toleranceSeconds: number, now: number = Date.now()): boolean {
  if (typeof header !== 'string' || secret === '') return false;
  let timestamp: string | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at === -1) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') signatures.push(value);
  }
  if (timestamp === null || !/^\d{1,12}$/.test(timestamp) || signatures.length === 0) return false;
  if (Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
  // Any v1 that matches: a receiver keeps working while the sender's secret is being rotated.
  return signatures.some((hex) => {
    if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
    return timingSafeEqual(Buffer.from(hex, 'hex'), expected);
  });
}
