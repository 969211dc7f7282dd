/**
 * `Kotak-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, Stripe's scheme: the
 * time is the attempt's, inside what is signed, so a receiver can refuse an old request replayed.
 * The receivers' side is `verifyKotakSignature` in kotak/webhooks (src/webhook-receiver/index.ts).
 */
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'Kotak-Signature';

export function signatureHeader(secret: string, unixSeconds: number, body: string): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}
