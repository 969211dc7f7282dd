/**
 * A password check that counts its "no" answers, for `kotak_auth_failures_total{protocol}`: wrapped
 * around a mail-client protocol's credential check at the composition root, so the protocol's
 * own code (POP3 now, IMAP later) stays as it is. A check that throws (busy, unavailable) is no
 * failed login and is not counted.
 */
export interface PasswordVerify {
  verify(user: string, password: string): Promise<boolean>;
}

export function countingFailures<T extends PasswordVerify>(check: T, failed: () => void): T {
  return {
    ...check,
    async verify(user: string, password: string): Promise<boolean> {
      const ok = await check.verify(user, password);
      if (!ok) failed();
      return ok;
    },
  };
}
