/** Start-up failures read as one line naming the flag or path and the cause, and exit 1. */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKotak } from '../helpers/child.js';

describe('a port already in use', () => {
  let occupier: Server;
  let port: number;

  beforeAll(async () => {
    occupier = createServer();
    occupier.listen(0, '127.0.0.1');
    await once(occupier, 'listening');
    port = (occupier.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => occupier.close(() => resolve())));

  it.each([
    ['--smtp', (p: number) => ['--smtp', `127.0.0.1:${p}`, '--http', '127.0.0.1:0']],
    ['--pop3', (p: number) => ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--pop3', `127.0.0.1:${p}`, '--pop3-auth', 'any']],
    ['--imap', (p: number) => ['--smtp', '127.0.0.1:0', '--http', '127.0.0.1:0', '--imap', `127.0.0.1:${p}`, '--imap-auth', 'any']],
    ['--http', (p: number) => ['--smtp', '127.0.0.1:0', '--http', `127.0.0.1:${p}`]],
  ])('%s: one line on stderr, nothing on stdout, exit 1', async (flag, args) => {
    const { code, stdout, stderr } = await runKotak([...args(port), '--db', ':memory:']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([`kotak: could not start: ${flag} 127.0.0.1:${port}: address already in use`]);
  });
});
