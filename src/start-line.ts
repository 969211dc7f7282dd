/**
 * The one human line printed at start in a terminal, besides the logs. Imports nothing heavy:
 * main.ts loads it for every command, `kotak sendmail` included.
 */
import type { HostPort } from './config.js';

function shownAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** "Kotak 0.1.0: SMTP 127.0.0.1:1025, inbox http://127.0.0.1:8025/", with the ports actually bound. */
export function startLine(
  version: string,
  config: { readonly smtp: HostPort; readonly pop3: HostPort | null; readonly imap?: HostPort | null },
  running: { readonly smtpPort: number; readonly pop3Port: number | null; readonly imapPort?: number | null; readonly url: string },
): string {
  const pop3 = config.pop3 && running.pop3Port !== null ? `, POP3 ${shownAddress(config.pop3.host, running.pop3Port)}` : '';
  const imap = config.imap && running.imapPort != null ? `, IMAP ${shownAddress(config.imap.host, running.imapPort)}` : '';
  return `Kotak ${version}: SMTP ${shownAddress(config.smtp.host, running.smtpPort)}${pop3}${imap}, inbox ${running.url}/\n`;
}
