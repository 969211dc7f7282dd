/**
 * Who may read the mailbox through a mail-client protocol (POP3 now, IMAP later): a check of a
 * user name and password against the configured setting. Protocol-neutral: the caller decides
 * how failures are answered, delayed and counted.
 */
import type { AuthSetting } from '../config.js';
import type { CredentialStore } from '../auth/htpasswd.js';

export interface CredentialCheck {
  /** True when this user may log in with this password. Never logs either. */
  verify(user: string, password: string): Promise<boolean>;
}

/**
 * `any` lets every non-empty user name in with any password (a sandbox convenience, as Mailpit's
 * SMTP "accept any"); `file` checks the loaded htpasswd entries; `off` lets no one in.
 */
export function createCredentialCheck(setting: AuthSetting, file: CredentialStore | null): CredentialCheck {
  switch (setting.mode) {
    case 'any':
      return { verify: async (user) => user !== '' };
    case 'file':
      if (!file) throw new Error('createCredentialCheck: the htpasswd file must be loaded for mode "file"');
      return { verify: (user, password) => file.verify(user, password) };
    case 'off':
      return { verify: async () => false };
  }
}
