/**
 * HTTP and WebSocket hardening over real sockets: authentication (Basic from an htpasswd file,
 * Bearer tokens inline and from a file, the open health probes), the WebSocket origin and
 * credential gate on /api/live and /api/events, CORS, refusing cross-site writes, request body
 * caps enforced while the body streams, security headers on every kind of response, attachment
 * downloads for hostile names and types, and the start-up warnings.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startApp } from '../../src/app.js';
import { KotakApiError, KotakClient } from '../../src/client/index.js';
import { resolveConfig } from '../../src/config.js';
import { getJson, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';
import { simpleMessage } from '../helpers/seed.js';

const TOKEN = 'ci-token-5f2b8c9e1d7a4036';
const FILE_TOKEN = 'file-token-a1b2c3d4e5f60718';
const APP_ORIGIN = 'http://app.example.test:3000';
const EVIL_ORIGIN = 'http://evil.example.test';
const MB = 1024 * 1024;

let dir: string;
/** No authentication, no CORS: the default. */
let open: RunningKotak;
/** Passwords and tokens, CORS for APP_ORIGIN, under /mail/. */
let guarded: RunningKotak;
/** `--http-cors '*'`. */
let wildcard: RunningKotak;

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const CAROL = basic('carol', 'correct horse');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kotak-http-security-'));
  const htpasswd = join(dir, 'users.htpasswd');
  const tokens = join(dir, 'tokens.txt');
  await writeFile(htpasswd, `carol:${bcrypt.hashSync('correct horse', 4)}\ndave:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=\n`);
  await writeFile(tokens, `# CI tokens\n${FILE_TOKEN}\n`);
  [open, guarded, wildcard] = await Promise.all([
    withKotak(),
    withKotak({ httpAuth: htpasswd, httpTokens: TOKEN, httpTokenFile: tokens, httpCors: APP_ORIGIN, httpBasePath: '/mail/' }),
    withKotak({ httpCors: '*' }),
  ]);
});

afterAll(async () => {
  await Promise.all([open?.stop(), guarded?.stop(), wildcard?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

interface Handshake {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Tries a WebSocket handshake: 101 when it opens, otherwise the refusal as sent. */
function handshake(url: string, headers: Record<string, string> = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers });
    ws.once('open', () => {
      resolve({ status: 101, headers: {}, body: '' });
      ws.close();
    });
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    ws.once('error', reject);
  });
}

/** The security headers every response must carry, whatever it is. */
function expectSecurityHeaders(headers: Headers | IncomingHttpHeaders, what: string): void {
  const get = (name: string): string | undefined =>
    headers instanceof Headers ? (headers.get(name) ?? undefined) : (headers[name] as string | undefined);
  expect(get('x-content-type-options'), what).toBe('nosniff');
  expect(get('referrer-policy'), what).toBe('no-referrer');
  const csp = get('content-security-policy') ?? '';
  expect(csp, what).toMatch(/frame-ancestors '(none|self)'/);
  expect(get('x-frame-options'), what).toBe(csp.includes("frame-ancestors 'self'") ? 'SAMEORIGIN' : 'DENY');
}

describe('authentication (--http-auth, --http-token, --http-token-file)', () => {
  it('answers 401 with a Basic challenge and a JSON reason without credentials, on every kind of route', async () => {
    for (const path of ['/api/messages', '/', '/messages/x', '/assets/main.js', '/api/openapi.json', '/api/v1/messages', '/api/v2/messages', '/view/latest.html', '/api/nope']) {
      const res = await fetch(`${guarded.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate'), path).toBe('Basic realm="Kotak", charset="UTF-8"');
      expect(await res.json(), path).toEqual({ error: { code: 'auth_failed', message: expect.stringMatching(/authentication required/) } });
      expectSecurityHeaders(res.headers, path);
    }
  });

  it('keeps /livez and /readyz open for health checks', async () => {
    expect((await fetch(`${guarded.url}/livez`)).status).toBe(200);
    expect((await fetch(`${guarded.url}/readyz`)).status).toBe(200);
  });

  it('lets a user of the htpasswd file in (bcrypt and SHA entries) and refuses a wrong password or user', async () => {
    expect((await fetch(`${guarded.url}/api/messages`, { headers: { Authorization: CAROL } })).status).toBe(200);
    expect((await fetch(`${guarded.url}/`, { headers: { Authorization: CAROL } })).status).toBe(200);
    expect((await fetch(`${guarded.url}/api/v1/messages`, { headers: { Authorization: basic('dave', 'hunter2') } })).status).toBe(200);
    for (const wrong of [basic('carol', 'correct horse '), basic('carol', ''), basic('mallory', 'correct horse'), 'Basic', `Digest ${CAROL}`]) {
      const res = await fetch(`${guarded.url}/api/messages`, { headers: { Authorization: wrong } });
      expect(res.status, wrong).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/wrong user name, password or token/);
    }
  });

  it('answers 429 with Retry-After to new Basic logins from an address after 10 wrong passwords; tokens and a browser already in go on', async () => {
    const htpasswd = join(dir, 'throttle.htpasswd');
    await writeFile(htpasswd, `carol:${bcrypt.hashSync('correct horse', 4)}\n`);
    const kotak = await withKotak({ httpAuth: htpasswd, httpTokens: TOKEN });
    try {
      const get = (authorization: string) => fetch(`${kotak.url}/api/messages`, { headers: { Authorization: authorization } });
      expect((await get(CAROL)).status).toBe(200);
      for (let i = 0; i < 10; i++) expect((await get(basic('carol', `guess ${i}`))).status).toBe(401);
      const throttled = await get(basic('carol', 'guess 11'));
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await throttled.json()) as { error: { code: string } }).error.code).toBe('auth_throttled');
      const ws = await handshake(`${kotak.url}/api/live`, { Authorization: basic('carol', 'guess 12') });
      expect(ws.status).toBe(429);
      expect(ws.headers['retry-after']).toBeDefined();
      // Already verified (the browser's header), and tokens, are not locked out.
      expect((await get(CAROL)).status).toBe(200);
      expect((await get(`Bearer ${TOKEN}`)).status).toBe(200);
      expect((await handshake(`${kotak.url}/api/live`, { Authorization: `Bearer ${TOKEN}` })).status).toBe(101);
    } finally {
      await kotak.stop();
    }
  });

  it('accepts API tokens as Bearer (inline and from the file) and as the Basic password', async () => {
    for (const authorization of [`Bearer ${TOKEN}`, `Bearer ${FILE_TOKEN}`, basic('ci', TOKEN)]) {
      expect((await fetch(`${guarded.url}/api/messages`, { headers: { Authorization: authorization } })).status, authorization).toBe(200);
    }
    for (const wrong of [`Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}0`, 'Bearer correct horse', basic('ci', `${TOKEN} `)]) {
      expect((await fetch(`${guarded.url}/api/messages`, { headers: { Authorization: wrong } })).status, wrong).toBe(401);
    }
  });

  it('lets KotakClient in with `token`, and says 401 without it; SMTP is unaffected', async () => {
    const id = queuedId(await sendRaw(guarded.smtpPort, simpleMessage('Behind auth')));
    const client = new KotakClient(guarded.url, { token: TOKEN });
    expect((await client.waitFor({ subject: 'Behind auth' })).id).toBe(id);
    const error = await new KotakClient(guarded.url).list().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KotakApiError);
    expect((error as KotakApiError).status).toBe(401);
    expect((error as KotakApiError).code).toBe('auth_failed');
  });

  it('authenticates both WebSockets before the handshake', async () => {
    for (const path of ['/api/live', '/api/events']) {
      const refused = await handshake(`${guarded.url}${path}`);
      expect(refused.status, path).toBe(401);
      expect(refused.headers['www-authenticate']).toBe('Basic realm="Kotak", charset="UTF-8"');
      expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'auth_failed' } });
      expectSecurityHeaders(refused.headers, `${path} 401`);
      expect((await handshake(`${guarded.url}${path}`, { Authorization: basic('carol', 'nope') })).status).toBe(401);
      expect((await handshake(`${guarded.url}${path}`, { Authorization: CAROL })).status).toBe(101);
      expect((await handshake(`${guarded.url}${path}`, { Authorization: `Bearer ${TOKEN}` })).status).toBe(101);
      // A browser on the inbox's own page sends the Basic credentials it holds, with its Origin.
      expect((await handshake(`${guarded.url}${path}`, { Authorization: CAROL, Origin: new URL(guarded.url).origin })).status).toBe(101);
    }
  });

  it('does not accept a token in the query string', async () => {
    expect((await fetch(`${guarded.url}/api/messages?token=${TOKEN}`)).status).toBe(401);
    expect((await handshake(`${guarded.url}/api/live?token=${TOKEN}`)).status).toBe(401);
  });
});

describe('WebSocket origin check (/api/live and /api/events)', () => {
  it('refuses a page from another origin with 403 before upgrading', async () => {
    for (const path of ['/api/live', '/api/events']) {
      for (const origin of [EVIL_ORIGIN, 'null', `${new URL(open.url).origin}.evil.test`, 'http://127.0.0.1:1']) {
        const refused = await handshake(`${open.url}${path}`, { Origin: origin });
        expect(refused.status, `${path} ${origin}`).toBe(403);
        expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'origin_not_allowed' } });
        expectSecurityHeaders(refused.headers, `${path} 403`);
      }
    }
  });

  it('accepts its own origin, and clients that send no Origin', async () => {
    for (const path of ['/api/live', '/api/events']) {
      expect((await handshake(`${open.url}${path}`, { Origin: new URL(open.url).origin })).status).toBe(101);
      expect((await handshake(`${open.url}${path}`)).status).toBe(101);
    }
  });

  it('behind a proxy, compares the host the browser asked for (Host or X-Forwarded-Host), not the scheme or path', async () => {
    const port = new URL(open.url).port;
    expect((await handshake(`${open.url}/api/live`, { Origin: `https://127.0.0.1:${port}` })).status).toBe(101);
    expect((await handshake(`${open.url}/api/live`, { Origin: 'https://mail.example.test', 'X-Forwarded-Host': 'mail.example.test' })).status).toBe(101);
    expect((await handshake(`${open.url}/api/live`, { Origin: 'https://mail.example.test', 'X-Forwarded-Host': 'other.example.test' })).status).toBe(403);
  });

  it('accepts --http-cors origins; with * any page, but never one carrying Basic credentials', async () => {
    expect((await handshake(`${guarded.url}/api/live`, { Origin: APP_ORIGIN, Authorization: CAROL })).status).toBe(101);
    expect((await handshake(`${guarded.url}/api/live`, { Origin: EVIL_ORIGIN, Authorization: CAROL })).status).toBe(403);
    expect((await handshake(`${wildcard.url}/api/events`, { Origin: EVIL_ORIGIN })).status).toBe(101);
    expect((await handshake(`${wildcard.url}/api/events`, { Origin: EVIL_ORIGIN, Authorization: basic('a', 'b') })).status).toBe(403);
  });
});

/** A GET with exactly these headers (Host included, which fetch will not let a caller set). */
function getWithHeaders(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('DNS rebinding guard (Host names a browser may use)', () => {
  // What a rebinding page's own requests look like: same-origin, under the attacker's name.
  const fromPage = (host: string) => ({ Host: host, 'Sec-Fetch-Site': 'same-origin', 'Sec-Fetch-Mode': 'cors' });

  it('refuses a browser request under a name Kotak does not know, with a JSON reason', async () => {
    const port = new URL(open.url).port;
    for (const path of ['/api/messages', '/', '/api/v1/messages', '/api/v2/messages']) {
      const refused = await getWithHeaders(`${open.url}${path}`, fromPage(`rebind.attacker.example:${port}`));
      expect(refused.status, path).toBe(403);
      expect(JSON.parse(refused.body).error.code).toBe('host_not_allowed');
    }
    const ws = await handshake(`${open.url}/api/live`, { Host: `rebind.attacker.example:${port}`, Origin: `http://rebind.attacker.example:${port}` });
    expect(ws.status).toBe(403);
    expect(JSON.parse(ws.body).error.code).toBe('host_not_allowed');
  });

  it('lets browsers in by localhost, *.localhost, IP addresses and the machine name', async () => {
    const port = new URL(open.url).port;
    for (const host of [`localhost:${port}`, `app.localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `${os.hostname()}:${port}`]) {
      expect((await getWithHeaders(`${open.url}/api/messages`, fromPage(host))).status, host).toBe(200);
    }
    expect((await handshake(`${open.url}/api/live`, { Host: `localhost:${port}`, Origin: `http://localhost:${port}` })).status).toBe(101);
  });

  it('refuses clients that do not look like browsers too: Chromium marks no same-origin GET', async () => {
    const port = new URL(open.url).port;
    for (const path of ['/', '/api/messages', '/api/messages/x/raw', '/api/v2/messages']) {
      const refused = await getWithHeaders(`${open.url}${path}`, { Host: `rebind.attacker.example:${port}` });
      expect(refused.status, path).toBe(403);
      const { error } = JSON.parse(refused.body) as { error: { code: string; message: string } };
      expect(error.code).toBe('host_not_allowed');
      expect(error.message).toContain('--http-allowed-hosts rebind.attacker.example');
    }
    expect((await handshake(`${open.url}/api/live`, { Host: `rebind.attacker.example:${port}` })).status).toBe(403);
  });

  it('lets in names without dots (a compose service name); a request without a Host (HTTP/1.0) is refused', async () => {
    const port = new URL(open.url).port;
    for (const host of [`kotak:${port}`, 'kotak_mail', 'mailcatcher.']) {
      expect((await getWithHeaders(`${open.url}/api/messages`, { Host: host })).status, host).toBe(200);
      expect((await getWithHeaders(`${open.url}/api/messages`, fromPage(host))).status, host).toBe(200);
    }
    expect((await handshake(`${open.url}/api/live`, { Host: `kotak:${port}` })).status).toBe(101);
    expect(await rawResponseHead(Number(port), 'GET /api/messages HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.[01] 400 /);
  });

  it('lets in names listed in --http-allowed-hosts (".name" with its subdomains), and is off with authentication', async () => {
    const listed = await withKotak({ httpAllowedHosts: 'mail.example.test,.corp.test,kotak_mail' });
    try {
      const port = new URL(listed.url).port;
      for (const [host, status] of [['mail.example.test', 200], [`inbox.corp.test:${port}`, 200], ['corp.test', 200], [`kotak_mail:${port}`, 200], ['other.example.test', 403]] as const) {
        expect((await getWithHeaders(`${listed.url}/api/messages`, fromPage(host))).status, host).toBe(status);
      }
    } finally {
      await listed.stop();
    }
    // With credentials required, a rebinding page gets 401 anyway (its origin holds none).
    const withToken = await getWithHeaders(`${guarded.url}/api/messages`, { ...fromPage('rebind.attacker.example'), Authorization: `Bearer ${TOKEN}` });
    expect(withToken.status).toBe(200);
  });
});

describe('CORS (--http-cors) and cross-site writes', () => {
  it('is off by default: no CORS headers for another origin, preflights refused', async () => {
    const read = await fetch(`${open.url}/api/messages`, { headers: { Origin: EVIL_ORIGIN } });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${open.url}/api/messages`, { method: 'OPTIONS', headers: { Origin: EVIL_ORIGIN, 'Access-Control-Request-Method': 'DELETE' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses writes from another page, which a form or a text/plain fetch can send without a preflight', async () => {
    const before = (await getJson(open, '/api/messages')).body.total as number;
    const send = await fetch(`${open.url}/api/v1/send`, {
      method: 'POST',
      headers: { Origin: EVIL_ORIGIN, 'Content-Type': 'text/plain' },
      body: JSON.stringify({ From: { Email: 'a@example.test' }, To: [{ Email: 'b@example.test' }], Subject: 'CSRF', Text: 'x' }),
    });
    expect(send.status).toBe(403);
    expect(await send.json()).toMatchObject({ error: { code: 'origin_not_allowed' } });
    for (const [method, path] of [['DELETE', '/api/messages'], ['PATCH', '/api/messages'], ['DELETE', '/api/v1/messages'], ['POST', '/api/messages/x/release']] as const) {
      const res = await fetch(`${open.url}${path}`, { method, headers: { Origin: 'null', 'Content-Type': 'text/plain' }, body: '{"read":true}' });
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await getJson(open, '/api/messages')).body.total).toBe(before);
    // The inbox's own page, and clients without an Origin, may write.
    const own = await fetch(`${open.url}/api/messages`, { method: 'PATCH', headers: { Origin: new URL(open.url).origin, 'Content-Type': 'application/json' }, body: '{"read":true}' });
    expect(own.status).toBe(200);
  });

  it('answers listed origins with their exact origin and credentials, preflights included, before authentication', async () => {
    const preflight = await fetch(`${guarded.url}/api/messages`, {
      method: 'OPTIONS',
      headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'DELETE', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expectSecurityHeaders(preflight.headers, 'preflight');

    const read = await fetch(`${guarded.url}/api/messages`, { headers: { Origin: APP_ORIGIN, Authorization: `Bearer ${TOKEN}` } });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(read.headers.get('vary')).toContain('Origin');
    // The page can read why it was refused.
    const unauthenticated = await fetch(`${guarded.url}/api/messages`, { headers: { Origin: APP_ORIGIN } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);

    const write = await fetch(`${guarded.url}/api/messages`, { method: 'PATCH', headers: { Origin: APP_ORIGIN, Authorization: CAROL, 'Content-Type': 'application/json' }, body: '{"read":true}' });
    expect(write.status).toBe(200);
    const other = await fetch(`${guarded.url}/api/messages`, { headers: { Origin: 'https://app.example.test:3000', Authorization: CAROL } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("with '*': any origin may read and write without Basic credentials", async () => {
    const read = await fetch(`${wildcard.url}/api/messages`, { headers: { Origin: EVIL_ORIGIN } });
    expect(read.headers.get('access-control-allow-origin')).toBe('*');
    expect(read.headers.get('access-control-allow-credentials')).toBeNull();
    const write = await fetch(`${wildcard.url}/api/messages`, { method: 'PATCH', headers: { Origin: EVIL_ORIGIN, 'Content-Type': 'application/json' }, body: '{"read":true}' });
    expect(write.status).toBe(200);
    const withBasic = await fetch(`${wildcard.url}/api/messages`, { method: 'PATCH', headers: { Origin: EVIL_ORIGIN, Authorization: basic('a', 'b'), 'Content-Type': 'application/json' }, body: '{"read":true}' });
    expect(withBasic.status).toBe(403);
  });
});

/** The status line and headers of the answer to a request sent as these bytes. */
function rawResponseHead(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text.split('\r\n\r\n')[0]!));
  });
}

/** Writes a request by hand and resolves with the response head and body as soon as they are complete. */
function rawRequest(port: number, head: string, feed: (socket: net.Socket) => void): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(head);
      feed(socket);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const responseHead = text.slice(0, end);
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(responseHead)?.[1] ?? NaN);
      const body = text.slice(end + 4);
      if (Buffer.byteLength(body) >= length) {
        resolve({ status: Number(text.slice(9, 12)), head: responseHead, body });
        socket.destroy();
      }
    });
    // Writes still in flight when the server hangs up are expected.
    socket.on('error', () => {});
    socket.on('close', () => reject(new Error(`connection closed before a complete response: ${text.slice(0, 200)}`)));
  });
}

describe('request body caps', () => {
  const port = () => Number(new URL(open.url).port);

  it('refuses a declared body over 5 MB with 413 before reading it', async () => {
    // 100 MB announced, a few bytes sent: the answer comes without the rest.
    const res = await rawRequest(
      port(),
      `PATCH /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${100 * MB}\r\n\r\n{"read":`,
      () => {},
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'payload_too_large', message: `the request body is over ${5 * MB} bytes` } });
    expect(res.head).toMatch(/\r\nconnection: close/i);
    expect(res.head).toMatch(/\r\nx-content-type-options: nosniff/i);
  });

  it('refuses a chunked body the moment it passes 5 MB, before it ends', async () => {
    const chunk = Buffer.alloc(MB, 0x20);
    const res = await rawRequest(port(), 'PATCH /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n', (socket) => {
      // Six 1 MB chunks, and never the final zero-length chunk: the body never ends.
      for (let i = 0; i < 6; i++) socket.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('payload_too_large');
  });

  it('caps Mailpit routes too, but lets the send API take a message up to --max-message-size', async () => {
    const tags = await fetch(`${open.url}/api/v1/tags`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: `{"IDs":[],"Tags":["${'x'.repeat(5 * MB)}"]}` });
    expect(tags.status).toBe(413);
    const attachment = Buffer.alloc(6 * MB, 7).toString('base64');
    const send = await fetch(`${open.url}/api/v1/send`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ From: { Email: 'big@example.test' }, To: [{ Email: 'b@example.test' }], Subject: 'Big send', Attachments: [{ Content: attachment, Filename: 'big.bin' }] }),
    });
    expect(send.status).toBe(200);
    const { ID } = (await send.json()) as { ID: string };
    expect((await getJson(open, `/api/messages/${ID}`)).body.attachments[0].size).toBe(6 * MB);
  });

  it('takes bodies under the cap', async () => {
    const res = await fetch(`${open.url}/api/messages`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: `{"read":true${' '.repeat(4 * MB)}}` });
    expect(res.status).toBe(200);
  });
});

const HOSTILE_MESSAGE = [
  'From: sender@example.test',
  'To: rcpt@example.test',
  'Subject: Hostile attachments',
  'Message-ID: <../../etc/passwd@example.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b0"',
  '',
  '--b0',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Hi <img src="cid:logo@example.test"></p><script>alert(1)</script>',
  '--b0',
  'Content-Type: text/html; name="page.html"',
  'Content-Disposition: attachment; filename="page.html"',
  '',
  '<script>alert(document.domain)</script>',
  '--b0',
  'Content-Type: image/svg+xml; name="logo.svg"',
  'Content-Disposition: inline; filename="logo.svg"',
  'Content-ID: <logo@example.test>',
  '',
  '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
  '--b0',
  'Content-Type: application/octet-stream',
  "Content-Disposition: attachment; filename*=UTF-8''evil%0D%0ASet-Cookie%3A%20x%3D1.txt",
  '',
  'crlf',
  '--b0',
  'Content-Type: text/plain',
  'Content-Disposition: attachment; filename="say \\"hi\\"; filename=evil.html"',
  '',
  'quotes',
  '--b0',
  'Content-Type: text/plain; charset=utf-8',
  "Content-Disposition: attachment; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E5%B1%A5%E6%AD%B4%E6%9B%B8.txt",
  '',
  'non-ascii',
  '--b0',
  'Content-Type: text/plain',
  'Content-Disposition: attachment; filename="../../etc/passwd"',
  'Content-ID: <../../../etc/shadow>',
  '',
  'traversal',
  '--b0--',
  '',
].join('\r\n');

describe('attachment downloads', () => {
  let id: string;
  let parts: { id: string; filename: string | null; contentType: string }[];

  beforeAll(async () => {
    id = queuedId(await sendRaw(open.smtpPort, Buffer.from(HOSTILE_MESSAGE)));
    parts = (await getJson(open, `/api/messages/${id}`)).body.attachments;
    expect(parts).toHaveLength(6);
  });

  /** Kotak's, Mailpit's and MailHog's download URLs for one top-level part. */
  const routes = (partId: string) => [
    `/api/messages/${id}/parts/${partId}`,
    `/api/v1/message/${id}/part/${partId}`,
    `/api/v1/messages/${id}/mime/part/${Number(partId) - 1}/download`,
  ];

  it('serves every part as a download whose name cannot break the header or climb directories', async () => {
    const expected: Record<string, string> = {
      'page.html': `attachment; filename="page.html"; filename*=UTF-8''page.html`,
      'logo.svg': `attachment; filename="logo.svg"; filename*=UTF-8''logo.svg`,
      'evil\r\nSet-Cookie: x=1.txt': `attachment; filename="evilSet-Cookie: x=1.txt"; filename*=UTF-8''evilSet-Cookie%3A%20x%3D1.txt`,
      'say "hi"; filename=evil.html': `attachment; filename="say _hi__ filename=evil.html"; filename*=UTF-8''say%20%22hi%22%3B%20filename%3Devil.html`,
      'Résumé 履歴書.txt': `attachment; filename="R_sum_ ___.txt"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E5%B1%A5%E6%AD%B4%E6%9B%B8.txt`,
      '../../etc/passwd': `attachment; filename="passwd"; filename*=UTF-8''passwd`,
    };
    expect(parts.map((p) => p.filename).sort()).toEqual(Object.keys(expected).sort());
    for (const part of parts) {
      for (const path of routes(part.id)) {
        const res = await fetch(`${open.url}${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-disposition'), `${path} ${part.filename}`).toBe(expected[part.filename!]);
        expect(res.headers.get('set-cookie'), path).toBeNull();
        expect(res.headers.get('content-security-policy'), path).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
        expectSecurityHeaders(res.headers, path);
        await res.arrayBuffer();
      }
    }
  });

  it('never serves HTML or SVG parts as HTML or SVG', async () => {
    for (const part of parts.filter((p) => /html|svg/.test(p.contentType))) {
      for (const path of routes(part.id)) {
        const res = await fetch(`${open.url}${path}`);
        expect(res.headers.get('content-type'), path).toBe('application/octet-stream');
        expect(res.headers.get('content-disposition'), path).toMatch(/^attachment;/);
        expect(await res.text(), path).toMatch(/<script|<svg/);
      }
    }
  });

  it('keeps the message HTML sanitised and framed only by the inbox', async () => {
    const res = await fetch(`${open.url}/api/messages/${id}/html`);
    const html = await res.text();
    expect(html).not.toMatch(/<script|alert/);
    expect(html).toMatch(/<img src="parts\/\d"/);
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'.*frame-ancestors 'self'.*sandbox/);
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});

describe('security headers on every kind of response', () => {
  it('on JSON, errors, 404s, text, downloads, static assets and the HTML documents', async () => {
    const id = queuedId(await sendRaw(open.smtpPort, Buffer.from(HOSTILE_MESSAGE)));
    const index = await (await fetch(`${open.url}/`)).text();
    const script = /src="(assets\/[^"]+\.js)"/.exec(index)![1]!;
    const style = /href="(assets\/[^"]+\.css)"/.exec(index)![1]!;
    const routes: [string, number][] = [
      ['/api/messages', 200],
      ['/api/messages?limit=nope', 400],
      ['/api/messages/nope', 404],
      ['/api/no-such-route', 404],
      ['/api/openapi.json', 200],
      ['/livez', 200],
      ['/readyz', 200],
      [`/api/messages/${id}/raw`, 200],
      [`/api/messages/${id}/html`, 200],
      [`/api/messages/${id}/parts/2`, 200],
      [`/api/v1/message/${id}`, 200],
      [`/api/v1/message/${id}/raw`, 200],
      [`/view/${id}.html`, 200],
      [`/view/${id}.txt`, 200],
      ['/view/nope.html', 404],
      [`/api/v1/messages/${id}/download`, 200],
      ['/api/v2/messages', 200],
      [`/${script}`, 200],
      [`/${style}`, 200],
      ['/assets/missing-0000.js', 404],
      ['/', 200],
      ['/messages/anything', 200],
    ];
    for (const [path, status] of routes) {
      const res = await fetch(`${open.url}${path}`);
      expect(res.status, path).toBe(status);
      expectSecurityHeaders(res.headers, path);
      await res.arrayBuffer();
    }
    // JSON is no document: nothing loads, nothing frames it. A message's own bytes are sandboxed too.
    expect((await fetch(`${open.url}/api/messages`)).headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    for (const path of [`/api/messages/${id}/raw`, `/api/v1/message/${id}/raw`, `/api/v1/messages/${id}/download`]) {
      expect((await fetch(`${open.url}${path}`)).headers.get('content-security-policy'), path).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
    }
    // Outside the base path, written by the HTTP server itself.
    const outside = await fetch(`${new URL(guarded.url).origin}/`, { redirect: 'manual' });
    expect(outside.status).toBe(302);
    expectSecurityHeaders(outside.headers, 'outside the base path');
  });

  it('gives the app HTML a fresh nonce per response, on its script and stylesheet only', async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${open.url}/`);
      const csp = res.headers.get('content-security-policy')!;
      const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
      expect(nonce).toBeTruthy();
      expect(csp).toContain(`style-src 'nonce-${nonce}'`);
      expect(csp).not.toMatch(/unsafe|script-src[^;]*'self'/);
      expect(csp).toContain("frame-ancestors 'self'");
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      const html = await res.text();
      expect(html).toMatch(new RegExp(`<script type="module" nonce="${nonce!.replace(/[+/]/g, '\\$&')}" src="assets/`));
      expect(html).toMatch(new RegExp(`<link rel="stylesheet" nonce="${nonce!.replace(/[+/]/g, '\\$&')}" href="assets/`));
      expect(html).not.toContain('%KOTAK_NONCE%');
      nonces.add(nonce!);
    }
    expect(nonces.size).toBe(3);
  });

  it('on refusals: 401, 403 and 413', async () => {
    expectSecurityHeaders((await fetch(`${guarded.url}/api/messages`)).headers, '401');
    expectSecurityHeaders((await fetch(`${open.url}/api/messages`, { method: 'DELETE', headers: { Origin: EVIL_ORIGIN } })).headers, '403');
    const tooBig = await fetch(`${open.url}/api/messages`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: 'x'.repeat(5 * MB + 1) });
    expect(tooBig.status).toBe(413);
    expectSecurityHeaders(tooBig.headers, '413');
  });
});

describe('start-up warnings', () => {
  async function startLogged(settings: Parameters<typeof resolveConfig>[0]): Promise<{ lines: { level: number; msg: string }[]; stop: () => Promise<void> }> {
    const lines: { level: number; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    });
    const config = resolveConfig({ smtp: '127.0.0.1:0', http: '127.0.0.1:0', db: ':memory:', parseWorkers: '1', ...settings });
    const running = await startApp(config, { log: pino({ level: 'info' }, sink) });
    return { lines, stop: () => running.stop() };
  }

  it('warns when HTTP listens beyond loopback without authentication, and not otherwise', async () => {
    const quiet = await startLogged({});
    await quiet.stop();
    expect(quiet.lines.filter((l) => l.level >= 40)).toEqual([]);

    const exposed = await startLogged({ http: '0.0.0.0:0' });
    await exposed.stop();
    expect(exposed.lines.filter((l) => l.level === 40).map((l) => l.msg)).toEqual([expect.stringMatching(/without authentication/)]);

    const protectedStart = await startLogged({ http: '0.0.0.0:0', httpTokens: TOKEN });
    await protectedStart.stop();
    expect(protectedStart.lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(protectedStart.lines.map((l) => l.msg)).toContain('HTTP authentication required');
  });
});
