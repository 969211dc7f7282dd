import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli.js';
import { envName, parseHostPort, resolveConfig, SETTINGS, type RawSettings } from '../../src/config.js';
import { helpText, helpWidth, wrap } from '../../src/help.js';
import { KotakError } from '../../src/errors.js';
import { parseDuration, parseSize } from '../../src/units.js';

describe('units', () => {
  it('parses sizes in binary units', () => {
    expect(parseSize('1024')).toBe(1024);
    expect(parseSize('2kb')).toBe(2048);
    expect(parseSize('1.5M')).toBe(1.5 * 1024 * 1024);
    expect(parseSize('50MB')).toBe(50 * 1024 * 1024);
    expect(parseSize(' 1 GiB ')).toBe(1024 ** 3);
    expect(() => parseSize('big')).toThrow(KotakError);
    expect(() => parseSize('-1')).toThrow(KotakError);
  });

  it('parses durations, including compound ones', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('36h')).toBe(36 * 3_600_000);
    expect(parseDuration('14d')).toBe(14 * 86_400_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    for (const bad of ['', '10', 'h', '1h 30m', '5 years']) expect(() => parseDuration(bad), bad).toThrow(KotakError);
  });
});

describe('config', () => {
  it('has the documented defaults', () => {
    const config = resolveConfig({});
    expect(config.smtp).toEqual({ host: '127.0.0.1', port: 1025 });
    expect(config.http).toEqual({ host: '127.0.0.1', port: 8025 });
    expect(config.maxMessageSize).toBe(50 * 1024 * 1024);
    expect(config.maxRecipients).toBe(1000);
    expect(config.maxMessages).toBeNull();
    expect(config.maxAge).toBeNull();
    expect(config.smtpAuth).toEqual({ mode: 'off' });
    expect(config.smtpTls).toEqual({ mode: 'off' });
    expect(config.smtpRequireTls).toBe(false);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes a SQLite path or a PostgreSQL URL for --db, and never shows a bad URL (it may hold a password)', () => {
    expect(resolveConfig({ db: 'data/kotak.db' }).db).toBe('data/kotak.db');
    expect(resolveConfig({}, { KOTAK_DB: 'postgresql://kotak:s3cret@db.internal:5432/kotak' }).db).toBe('postgresql://kotak:s3cret@db.internal:5432/kotak');
    expect(resolveConfig({ db: 'postgres:///kotak?host=/run/postgresql' }).db).toBe('postgres:///kotak?host=/run/postgresql');
    let message = '';
    try {
      resolveConfig({ db: 'postgres://kotak:p@ss:w0rd@db:notaport/kotak' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^--db: the PostgreSQL URL cannot be read/);
    expect(message).not.toContain('w0rd');
  });

  it('takes flags over environment over defaults', () => {
    const env = { KOTAK_SMTP: '0.0.0.0:2525', KOTAK_MAX_RECIPIENTS: '5', KOTAK_SMTP_REQUIRE_TLS: 'true', KOTAK_SMTP_TLS: 'auto' };
    const config = resolveConfig({ smtp: '127.0.0.1:0' }, env);
    expect(config.smtp).toEqual({ host: '127.0.0.1', port: 0 });
    expect(config.maxRecipients).toBe(5);
    expect(config.smtpRequireTls).toBe(true);
    expect(config.smtpTls).toEqual({ mode: 'auto' });
  });

  it('reads auth and TLS settings', () => {
    expect(resolveConfig({ smtpAuth: 'any' }).smtpAuth).toEqual({ mode: 'any' });
    expect(resolveConfig({ smtpAuth: '/etc/kotak/users' }).smtpAuth).toEqual({ mode: 'file', path: '/etc/kotak/users' });
    expect(resolveConfig({ smtpTls: 'c.pem,k.pem' }).smtpTls).toEqual({ mode: 'files', cert: 'c.pem', key: 'k.pem' });
    expect(() => resolveConfig({ smtpTls: 'c.pem' })).toThrow(/--smtp-tls/);
  });

  it('parses HOST:PORT including IPv6', () => {
    expect(parseHostPort('smtp', '[::1]:1025')).toEqual({ host: '::1', port: 1025 });
    expect(parseHostPort('smtp', ':1025')).toEqual({ host: '0.0.0.0', port: 1025 });
    expect(() => parseHostPort('smtp', 'localhost')).toThrow(/HOST:PORT/);
    expect(() => parseHostPort('smtp', 'localhost:70000')).toThrow(/HOST:PORT/);
  });

  it('treats 0 as "no limit" for --max-messages and rejects nonsense', () => {
    expect(resolveConfig({ maxMessages: '0' }).maxMessages).toBeNull();
    expect(resolveConfig({ maxMessages: '500' }).maxMessages).toBe(500);
    expect(() => resolveConfig({ maxMessages: '-3' })).toThrow(/--max-messages/);
    expect(() => resolveConfig({ maxRecipients: '0' })).toThrow(/--max-recipients/);
  });
});

describe('command line', () => {
  it('accepts kotak and kotak serve with flags', () => {
    expect(parseCommandLine([])).toEqual({ kind: 'serve', settings: {} });
    expect(parseCommandLine(['serve', '--smtp', ':1', '--smtp-require-tls'])).toEqual({ kind: 'serve', settings: { smtp: ':1', smtpRequireTls: 'true' } });
    expect(parseCommandLine(['--smtp=127.0.0.1:0'])).toEqual({ kind: 'serve', settings: { smtp: '127.0.0.1:0' } });
    expect(parseCommandLine(['--help'])).toEqual({ kind: 'help' });
  });

  it('rejects unknown flags and commands in one line', () => {
    expect(() => parseCommandLine(['--nope'])).toThrow(/^Unknown option '--nope'$/);
    expect(() => parseCommandLine(['serve', 'extra'])).toThrow(/unexpected argument/);
  });
});

describe('list settings', () => {
  // Two values for each list flag, and what the config holds for them. A new list setting must
  // be added here (the first test checks that the table and this list agree).
  const samples: Record<string, { values: [string, string]; key: string; expected: unknown[]; separator?: string }> = {
    'http-token': { key: 'httpTokens', values: ['token-for-ci-0001', 'token-for-ci-0002'], expected: ['token-for-ci-0001', 'token-for-ci-0002'] },
    'http-allowed-hosts': { key: 'httpAllowedHosts', values: ['a.test', '.b.test'], expected: ['a.test', '.b.test'] },
    'http-cors': { key: 'httpCors', values: ['https://a.test', 'http://b.test:3000'], expected: ['https://a.test', 'http://b.test:3000'] },
    'relay-allow': { key: 'relayAllow', values: ['*@a.test', '*@b.test'], expected: ['*@a.test', '*@b.test'] },
    'mailbox-route': { key: 'mailboxRoute', values: ['*@a.test=a', '*@{mailbox}.inbox.test'], expected: ['*@a.test=a', '*@{mailbox}.inbox.test'] },
    'relay-dns': { key: 'relayDns', values: ['127.0.0.1:5353', '127.0.0.2'], expected: ['127.0.0.1:5353', '127.0.0.2:53'] },
    'relay-retry': { key: 'relayRetry', values: ['1m', '5m'], expected: [60_000, 300_000] },
    dns: { key: 'dns', values: ['127.0.0.1:5353', '[::1]'], expected: ['127.0.0.1:5353', '[::1]:53'] },
    // A rule's query may hold a comma: rules are one a line in the variable.
    'tag-rule': { key: 'tagRule', values: ['subject:"a, b"=Comma', 'from:x@y.test=X'], expected: ['subject:"a, b"=Comma', 'from:x@y.test=X'], separator: '\n' },
    // A rule's reply text may hold commas: rules are joined with ; instead.
    'chaos-rule': { key: 'chaosRule', values: ['rcpt reply=550:"no, never"', 'mail delay=5'], expected: ['rcpt reply=550:"no, never"', 'mail delay=5'], separator: ';' },
    webhook: { key: 'webhook', values: ['http://127.0.0.1:9000/hook', 'https://u:p@hooks.test/k'], expected: ['http://127.0.0.1:9000/hook', 'https://u:p@hooks.test/k'] },
    'webhook-events': { key: 'webhookEvents', values: ['message:stored', 'message:deleted'], expected: ['message:stored', 'message:deleted'] },
  };

  it('marks exactly the settings that hold lists', () => {
    expect(SETTINGS.filter((s) => 'list' in s && s.list).map((s) => s.flag).sort()).toEqual(Object.keys(samples).sort());
  });

  it.each(Object.entries(samples))('--%s repeated keeps every value, as the comma form and the variable do', (flag, { key, values, expected, separator = ',' }) => {
    const command = parseCommandLine([`--${flag}`, values[0], `--${flag}`, values[1]]);
    expect(command).toEqual({ kind: 'serve', settings: { [key]: values } });
    const settings = (command as { settings: RawSettings }).settings;
    const fromFlags = resolveConfig(settings) as unknown as Record<string, unknown>;
    expect(fromFlags[key]).toEqual(expected);
    expect((resolveConfig({ [key]: values.join(separator) }) as unknown as Record<string, unknown>)[key]).toEqual(expected);
    expect((resolveConfig({}, { [envName(flag)]: values.join(separator) }) as unknown as Record<string, unknown>)[key]).toEqual(expected);
  });

  it('mixes repeats and commas, and the flags replace the variable', () => {
    const { settings } = parseCommandLine(['--relay-allow', '*@a.test,*@b.test', '--relay-allow=*@c.test']) as { settings: RawSettings };
    expect(resolveConfig(settings, { KOTAK_RELAY_ALLOW: '*@env.test' }).relayAllow).toEqual(['*@a.test', '*@b.test', '*@c.test']);
  });

  it('--relay-dns is the older name of --dns: either sets both, the same twice is fine, two different lists are refused', () => {
    for (const raw of [{ dns: '127.0.0.1:5353' }, { relayDns: '127.0.0.1:5353' }, { dns: '127.0.0.1:5353', relayDns: '127.0.0.1:5353' }] as RawSettings[]) {
      const config = resolveConfig(raw);
      expect([config.dns, config.relayDns]).toEqual([['127.0.0.1:5353'], ['127.0.0.1:5353']]);
    }
    expect(resolveConfig({}, { KOTAK_RELAY_DNS: '127.0.0.9' }).dns).toEqual(['127.0.0.9:53']);
    expect(() => resolveConfig({ dns: '127.0.0.1:5353', relayDns: '127.0.0.2:53' })).toThrow(/older name of --dns/);
    expect(resolveConfig({}).dns).toEqual([]);
  });

  it('keeps the last value of any other flag given twice, as Go flag parsing (Mailpit, MailHog) does', () => {
    expect(parseCommandLine(['--smtp', '127.0.0.1:1', '--smtp', '127.0.0.1:2'])).toEqual({ kind: 'serve', settings: { smtp: '127.0.0.1:2' } });
    expect(parseCommandLine(['--smtp-tls', 'a.pem,b.pem', '--smtp-tls', 'auto'])).toEqual({ kind: 'serve', settings: { smtpTls: 'auto' } });
  });
});

describe('help', () => {
  it('-h and kotak help ask for help; --version for the version', () => {
    expect(parseCommandLine(['-h'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['help'])).toEqual({ kind: 'help' });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
  });

  it.each([60, 80, 132])('groups every option by section, with its variable, within %i columns', (width) => {
    const text = helpText('9.9.9', width);
    const lines = text.split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
    const headings = ['SMTP:', 'HTTP: web inbox, API and WebSockets:', 'Storage:', 'Mailboxes: routing mail at intake:', 'POP3 (off unless --pop3 is given):', 'Relay: real delivery (off unless --relay-allow is given):', 'Limits:', 'Logging and process:'];
    for (const heading of headings) expect(lines.map((l) => l.replace(/\s+$/, ''))).toContain(heading);
    for (const s of SETTINGS) {
      expect(text).toContain(`--${s.flag}`);
      expect(text).toContain(envName(s.flag));
    }
    expect(text).toContain('[default: 127.0.0.1:1025]');
    // Each option sits under its own section's heading.
    const sectionOf = (flag: string): string => lines.slice(0, lines.findIndex((l) => l.trimStart().startsWith(`--${flag} `) || l.trim() === `--${flag}`)).reverse().find((l) => /^\S.*:$/.test(l))!;
    expect(sectionOf('pop3-auth')).toMatch(/^POP3/);
    expect(sectionOf('imap-auth')).toMatch(/^IMAP \(off unless --imap is given\)/);
    expect(sectionOf('imap-folder-size')).toMatch(/^IMAP/);
    expect(sectionOf('relay-dns')).toMatch(/^Relay/);
    expect(sectionOf('smtp-max-connections')).toBe('Limits:');
  });

  it('wraps words and cuts only words longer than a line', () => {
    expect(wrap('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(wrap('abcdefghij k', 4)).toEqual(['abcd', 'efgh', 'ij k']);
  });

  it('lays help out at the terminal width, else $COLUMNS, else 80', () => {
    expect(helpWidth({ isTTY: true, columns: 100 }, { COLUMNS: '60' })).toBe(100);
    expect(helpWidth({ isTTY: false }, { COLUMNS: '60' })).toBe(60);
    expect(helpWidth({}, { COLUMNS: 'wide' })).toBe(80);
  });
});
