import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli.js';
import { parseHostPort, resolveConfig } from '../../src/config.js';
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
