/** Messages between the password verifier and its worker threads. */
import type { PasswordHash } from './hash-check.js';

export interface VerifyRequest {
  readonly jobId: number;
  readonly entry: PasswordHash;
  readonly password: string;
}

export type VerifyReply =
  | { readonly jobId: number; readonly ok: true; readonly matches: boolean }
  | { readonly jobId: number; readonly ok: false; readonly error: string };
