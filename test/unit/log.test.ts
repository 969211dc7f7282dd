/** The logger's format choice and the start line, with a fake stdout. */
import { describe, expect, it } from 'vitest';
import { createLogger, prettyLogs } from '../../src/log.js';
import { startLine } from '../../src/start-line.js';

function fakeStdout(isTTY: boolean): { isTTY: boolean; text: string; write(chunk: string): boolean } {
  return { isTTY, text: '', write(chunk) { this.text += chunk; return true; } };
}

describe('log format', () => {
  it('auto is pretty on a terminal only; json and pretty are what they say', () => {
    expect(prettyLogs('auto', { isTTY: true, write: () => true })).toBe(true);
    expect(prettyLogs('auto', { isTTY: false, write: () => true })).toBe(false);
    expect(prettyLogs('auto', { write: () => true })).toBe(false);
    expect(prettyLogs('json', { isTTY: true, write: () => true })).toBe(false);
    expect(prettyLogs('pretty', { isTTY: false, write: () => true })).toBe(true);
  });

  it('writes a pretty line at once, in the calling thread, so nothing is lost at exit', () => {
    const out = fakeStdout(false);
    createLogger({ logLevel: 'info', logFormat: 'pretty' }, out).info({ smtpPort: 1025 }, 'kotak listening');
    expect(out.text).toMatch(/INFO: kotak listening \{"smtpPort":1025\}\n$/);
    expect(out.text).not.toContain('\x1b['); // not a terminal: no colours
  });
});

describe('start line', () => {
  it('names the IMAP port when IMAP is on', () => {
    const running = { smtpPort: 40001, pop3Port: null, imapPort: 40004, url: 'http://127.0.0.1:40003' };
    expect(startLine('1.2.3', { smtp: { host: '127.0.0.1', port: 0 }, pop3: null, imap: { host: '127.0.0.1', port: 0 } }, running)).toBe(
      'Kotak 1.2.3: SMTP 127.0.0.1:40001, IMAP 127.0.0.1:40004, inbox http://127.0.0.1:40003/\n',
    );
  });

  it('names the bound ports, POP3 when on, and the inbox URL with its base path', () => {
    const running = { smtpPort: 40001, pop3Port: 40002, url: 'http://127.0.0.1:40003/mail' };
    expect(startLine('1.2.3', { smtp: { host: '127.0.0.1', port: 0 }, pop3: { host: '::1', port: 0 } }, running)).toBe(
      'Kotak 1.2.3: SMTP 127.0.0.1:40001, POP3 [::1]:40002, inbox http://127.0.0.1:40003/mail/\n',
    );
    expect(startLine('1.2.3', { smtp: { host: '0.0.0.0', port: 1025 }, pop3: null }, { ...running, pop3Port: null })).toBe(
      'Kotak 1.2.3: SMTP 0.0.0.0:40001, inbox http://127.0.0.1:40003/mail/\n',
    );
  });
});
