/** The `kotak` command line: flags, environment, help, and errors a person can act on. */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../../src/config.js';
import { runKotak, startKotakProcess } from '../helpers/child.js';

describe('kotak command line', () => {
  it('--help lists every flag with its default and environment variable', async () => {
    const { code, stdout } = await runKotak(['--help']);
    expect(code).toBe(0);
    for (const s of SETTINGS) {
      expect(stdout).toContain(`--${s.flag}`);
      expect(stdout).toContain(`KOTAK_${s.flag.toUpperCase().replace(/-/g, '_')}`);
    }
    expect(stdout).toContain('[default: 127.0.0.1:1025]');
    expect(stdout).toContain('[default: 50MB]');
  });

  it.each([
    [['--no-such-flag'], /--no-such-flag/],
    [['--smtp', 'nonsense'], /--smtp: "nonsense" is not HOST:PORT/],
    [['--max-message-size', 'lots'], /--max-message-size/],
    [['--max-age', '3 fortnights'], /--max-age/],
    [['--log-level', 'loud'], /--log-level/],
    [['--smtp-require-tls'], /needs --smtp-tls/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j exits 2 with a one-line reason', async (args, reason) => {
    const { code, stderr } = await runKotak(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(reason);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a bad environment value is reported like a bad flag', async () => {
    const { code, stderr } = await runKotak([], { KOTAK_MAX_RECIPIENTS: 'many' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/--max-recipients: "many"/);
  });

  it('takes settings from KOTAK_* variables, lets flags win, and logs the ports it picked', async () => {
    const running = await startKotakProcess(['serve', '--http', '127.0.0.1:0', '--db', ':memory:'], {
      KOTAK_SMTP: '127.0.0.1:0',
      KOTAK_HTTP: '127.0.0.1:1', // the flag above wins over this
      KOTAK_LOG_LEVEL: 'info',
    });
    try {
      expect(running.smtpPort).toBeGreaterThan(0);
      expect(running.httpPort).not.toBe(1);
      expect((await fetch(`${running.url}/livez`)).status).toBe(200);
    } finally {
      running.child.kill('SIGTERM');
      const [code] = await once(running.child, 'exit');
      expect(code).toBe(0);
    }
  });
});
