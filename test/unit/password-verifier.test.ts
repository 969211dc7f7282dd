/** The password verifier's pool: checks in worker threads, a bounded waiting line, refusals that say "later". */
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyHash, type PasswordHash } from '../../src/auth/hash-check.js';
import { createPasswordVerifier, type PasswordVerifier } from '../../src/auth/verifier.js';
import { KotakError } from '../../src/errors.js';

const log = pino({ level: 'silent' });
const hashOf = (text: string): PasswordHash => classifyHash(text)!;
const BCRYPT = hashOf(bcrypt.hashSync('s3cret', 4));
// `htpasswd -nbm alice 'correct horse'` (Apache 2.4), as in htpasswd.test.ts.
const APR1 = hashOf('$apr1$rWn6/exG$rkfoSReL2ihqNGbTKzq5J.');
const PLAIN = hashOf('plain-pass');

/** Settles every check, turning a refusal into its error code. */
const outcomes = (checks: Promise<boolean>[]) =>
  Promise.all(checks.map((check) => check.then((matches) => matches, (err: unknown) => (err instanceof KotakError ? err.code : String(err)))));

describe('createPasswordVerifier', () => {
  let verifier: PasswordVerifier | null = null;
  afterEach(async () => {
    await verifier?.close();
    verifier = null;
  });

  it('checks bcrypt and apr1 in its workers and the cheap schemes inline, with the right answers', async () => {
    verifier = createPasswordVerifier({ workers: 2 }, { log });
    expect(await outcomes([
      verifier.matches(BCRYPT, 's3cret'),
      verifier.matches(BCRYPT, 'S3cret'),
      verifier.matches(APR1, 'correct horse'),
      verifier.matches(APR1, 'correct horsE'),
      verifier.matches(PLAIN, 'plain-pass'),
      verifier.matches(PLAIN, 'plain'),
    ])).toEqual([true, false, true, false, true, false]);
  });

  it('refuses a slow check at once when the waiting line is full, and takes new ones once it drains', async () => {
    verifier = createPasswordVerifier({ workers: 1, maxWaiting: 2 }, { log });
    // Asked in one turn of the event loop: one runs, two wait, the rest are refused.
    const first = [1, 2, 3, 4, 5].map(() => verifier!.matches(BCRYPT, 'wrong'));
    // A plain entry costs nothing and is never refused.
    const plain = verifier.matches(PLAIN, 'plain-pass');
    expect(await outcomes(first)).toEqual([false, false, false, 'auth_unavailable', 'auth_unavailable']);
    expect(await plain).toBe(true);
    expect(await outcomes([1, 2, 3].map(() => verifier!.matches(BCRYPT, 's3cret')))).toEqual([true, true, true]);
  });

  it('refuses what is still waiting or running when it closes, and everything after', async () => {
    verifier = createPasswordVerifier({ workers: 1, maxWaiting: 4 }, { log });
    const pending = outcomes([1, 2, 3].map(() => verifier!.matches(BCRYPT, 's3cret')));
    await verifier.close();
    expect(await pending).toEqual(['auth_unavailable', 'auth_unavailable', 'auth_unavailable']);
    expect(await outcomes([verifier.matches(BCRYPT, 's3cret')])).toEqual(['auth_unavailable']);
  });
});
