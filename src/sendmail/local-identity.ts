/** Who is sending: the local user and this machine's name, for the default sender (user@hostname, as Mailpit and sendmail use). */
import os from 'node:os';

export interface LocalIdentity {
  readonly user: string;
  readonly hostname: string;
}

export function localIdentity(env: NodeJS.ProcessEnv): LocalIdentity {
  let user: string | undefined;
  try {
    user = os.userInfo().username;
  } catch {
    // A uid without a passwd entry (common in containers) has no name; the environment may.
  }
  user = (user || env.USER || env.LOGNAME || 'nobody').replace(/[^\w.+-]/g, '_');
  return { user, hostname: os.hostname() || 'localhost' };
}
