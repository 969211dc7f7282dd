/** One password verifier (src/auth/verifier.ts) for tests that load htpasswd files directly. */
import pino from 'pino';
import { createPasswordVerifier, type PasswordVerifier } from '../../src/auth/verifier.js';

let shared: PasswordVerifier | null = null;

/** Shared by a test file; its worker threads are unref'd, so nothing needs closing. */
export function testVerifier(): PasswordVerifier {
  shared ??= createPasswordVerifier({}, { log: pino({ level: 'silent' }) });
  return shared;
}
