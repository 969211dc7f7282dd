/**
 * The link check (src/checks/links/) against real HTTP servers on 127.0.0.1, port 0. Names are
 * resolved by an injected lookup (or a loopback DNS server), and every request the checker makes
 * goes through a spy that refuses anything but loopback, so nothing can leave 127.0.0.1 even if
 * the SSRF guard were broken: the spy's record is how the tests prove what was never connected to.
 */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createLinkChecker, MAX_BODY_BYTES, type LinkCheckDeps, type LinkCheckSettings } from '../../src/checks/links/check.js';
import { dnsServerLookup, type HostLookup } from '../../src/checks/links/lookup.js';
import { requestHop, type HopRequest } from '../../src/checks/links/request.js';
import { refusalReason } from '../../src/checks/links/address-policy.js';
import { createSelfSignedCertificate } from '../../src/smtp/tls.js';
import { startDnsServer } from '../helpers/dns-server.js';

const silent = pino({ level: 'silent' });

interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly host: string | undefined;
  readonly cookie: string | undefined;
}

interface TestServer {
  readonly port: number;
  readonly url: string;
  readonly requests: SeenRequest[];
  connections: number;
  close(): Promise<void>;
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void, server = http.createServer()): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  const state = { connections: 0 };
  server.on('connection', () => state.connections++);
  server.on('secureConnection', () => undefined);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method!, path: req.url!, host: req.headers.host, cookie: req.headers.cookie });
    handler(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const running: TestServer = {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return state.connections;
    },
    set connections(n) {
      state.connections = n;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  servers.push(running);
  return running;
}

/** Every request the checker makes, by address; anything but loopback is refused here, never sent. */
function requestSpy() {
  const hops: HopRequest[] = [];
  const request: LinkCheckDeps['request'] = (hop) => {
    hops.push(hop);
    if (hop.address !== '127.0.0.1' && hop.address !== '::1') return Promise.reject(new Error(`test spy: ${hop.address} is not loopback; not connecting`));
    return requestHop(hop);
  };
  return { hops, request };
}

/** Names → loopback, recording each question. */
function namesToLoopback(names: readonly string[]) {
  const asked: string[] = [];
  const lookup: HostLookup = async (hostname) => {
    asked.push(hostname);
    if (!names.includes(hostname)) throw Object.assign(new Error(`${hostname}: no such host`), { code: 'ENOTFOUND' });
    return [{ address: '127.0.0.1', family: 4 }];
  };
  return { asked, lookup };
}

function checker(settings: Partial<LinkCheckSettings> = {}, deps: Partial<LinkCheckDeps> = {}) {
  const spy = requestSpy();
  const links = createLinkChecker(
    { allowPrivate: true, timeoutMs: 10_000, userAgent: 'Kotak-test', ...settings },
    { lookup: namesToLoopback([]).lookup, log: silent, request: spy.request, ...deps },
  );
  return { links, hops: spy.hops };
}

const html = (...urls: string[]) => urls.map((u) => `<a href="${u}">x</a>`).join('\n');

describe('link check: statuses and methods', () => {
  it('reports 200 and 404 from HEAD, and falls back to GET where HEAD gets 405', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/missing') res.writeHead(404).end();
      else if (req.url === '/get-only' && req.method === 'HEAD') res.writeHead(405, { Allow: 'GET' }).end();
      else if (req.url === '/no-head' && req.method === 'HEAD') res.writeHead(501).end();
      else res.writeHead(200, { 'Content-Type': 'text/plain' }).end(req.method === 'GET' ? 'hello' : undefined);
    });
    const { links } = checker();
    const report = await links.check({ html: html(`${server.url}/ok`, `${server.url}/missing`, `${server.url}/get-only`, `${server.url}/no-head`), text: null }, { follow: false });
    expect(report.links.map((l) => [l.outcome, l.status, l.statusText, l.hops.map((h) => h.method)])).toEqual([
      ['ok', 200, 'OK', ['HEAD']],
      ['broken', 404, 'Not Found', ['HEAD']],
      ['ok', 200, 'OK', ['GET']],
      ['ok', 200, 'OK', ['GET']],
    ]);
    expect(report).toMatchObject({ found: 4, checked: 4, errors: 1, omitted: 0, follow: false });
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      expect.arrayContaining(['HEAD /ok', 'HEAD /missing', 'HEAD /get-only', 'GET /get-only', 'HEAD /no-head', 'GET /no-head']),
    );
  });

  it('falls back to GET when a server drops the connection on HEAD', async () => {
    const server = await serve((req, res) => {
      if (req.method === 'HEAD') req.socket.destroy();
      else res.writeHead(204).end();
    });
    const report = await checker().links.check({ html: html(`${server.url}/`), text: null }, { follow: false });
    expect(report.links[0]).toMatchObject({ outcome: 'ok', status: 204, hops: [{ method: 'GET', status: 204 }] });
  });

  it('lists each unique link and image once, in order, and leaves other schemes unchecked', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end());
    const body =
      `<a href="${server.url}/a">a</a><img src="${server.url}/logo.png"><a href="${server.url}/a">again</a>` +
      `<table background="${server.url}/bg.png"><tr><td>x</td></tr></table><link rel="stylesheet" href="${server.url}/s.css">` +
      '<a href="mailto:someone@example.test">m</a><a href="tel:+123">t</a><img src="cid:logo@x"><img src="data:image/png;base64,AAAA"><a href="/relative">r</a>';
    const report = await checker().links.check({ html: body, text: `Also ${server.url}/a and ${server.url}/text-only.` }, { follow: false });
    expect(report.links.map((l) => [l.url.replace(server.url, ''), l.kind, l.outcome])).toEqual([
      ['/a', 'link', 'ok'],
      ['/logo.png', 'image', 'ok'],
      ['/bg.png', 'image', 'ok'],
      ['/s.css', 'stylesheet', 'ok'],
      ['mailto:someone@example.test', 'link', 'not-checked'],
      ['tel:+123', 'link', 'not-checked'],
      ['cid:logo@x', 'image', 'not-checked'],
      ['data:image/png;base64,AAAA', 'image', 'not-checked'],
      ['/relative', 'link', 'not-checked'],
      ['/text-only', 'link', 'ok'],
    ]);
    expect(report).toMatchObject({ found: 10, checked: 5, errors: 0 });
    expect(server.requests).toHaveLength(5);
  });

  it('checks the first 100 unique URLs and says how many were left out', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end());
    const urls = Array.from({ length: 120 }, (_, i) => `${server.url}/page/${i}`);
    const report = await checker().links.check({ html: html(...urls, ...urls), text: null }, { follow: false });
    expect(report).toMatchObject({ found: 120, omitted: 20, checked: 100 });
    expect(report.links).toHaveLength(100);
    expect(server.requests).toHaveLength(100);
  });
});

describe('link check: redirects', () => {
  /** /hop/N redirects to /hop/N+1 up to `last`, which answers 200. */
  async function chain(last: number) {
    return serve((req, res) => {
      const n = Number(/^\/hop\/(\d+)$/.exec(req.url!)?.[1]);
      if (n < last) res.writeHead(302, { Location: `/hop/${n + 1}` }).end();
      else res.writeHead(200).end();
    });
  }

  it('without follow, a redirect is the answer', async () => {
    const server = await chain(3);
    const report = await checker().links.check({ html: html(`${server.url}/hop/0`), text: null }, { follow: false });
    expect(report.links[0]).toMatchObject({ outcome: 'ok', status: 302, statusText: 'Found', hops: [{ status: 302, location: '/hop/1' }] });
    expect(server.requests).toHaveLength(1);
  });

  it('follows up to 5 redirects, recording each hop', async () => {
    const server = await chain(5);
    const report = await checker().links.check({ html: html(`${server.url}/hop/0`), text: null }, { follow: true });
    const [link] = report.links;
    expect(link).toMatchObject({ outcome: 'ok', status: 200 });
    expect(link!.hops.map((h) => [h.url.replace(server.url, ''), h.status, h.location])).toEqual([
      ['/hop/0', 302, '/hop/1'],
      ['/hop/1', 302, '/hop/2'],
      ['/hop/2', 302, '/hop/3'],
      ['/hop/3', 302, '/hop/4'],
      ['/hop/4', 302, '/hop/5'],
      ['/hop/5', 200, null],
    ]);
  });

  it('a chain of 6 redirects stops after the 5th and is an error', async () => {
    const server = await chain(6);
    const report = await checker().links.check({ html: html(`${server.url}/hop/0`), text: null }, { follow: true });
    expect(report.links[0]).toMatchObject({ outcome: 'redirect-limit', status: 302, reason: 'still redirecting after 5 redirects' });
    expect(report.links[0]!.hops).toHaveLength(6);
    expect(report.errors).toBe(1);
    // /hop/6 (the 6th redirect's target) is never asked for.
    expect(server.requests.map((r) => r.path)).toEqual(['/hop/0', '/hop/1', '/hop/2', '/hop/3', '/hop/4', '/hop/5']);
  });

  it('never sends cookies, not even those the site set on the previous hop', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/login') res.writeHead(302, { Location: '/home', 'Set-Cookie': 'session=abc; Path=/' }).end();
      else res.writeHead(200, { 'Set-Cookie': 'again=1' }).end();
    });
    const report = await checker().links.check({ html: html(`${server.url}/login`, `${server.url}/home`), text: null }, { follow: true });
    expect(report.links.map((l) => l.outcome)).toEqual(['ok', 'ok']);
    expect(server.requests.length).toBeGreaterThanOrEqual(3);
    for (const request of server.requests) expect(request.cookie).toBeUndefined();
  });
});

describe('link check: SSRF guard (private targets not allowed)', () => {
  it('refuses loopback in every spelling without connecting', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end());
    const { port } = server;
    const { links, hops } = checker({ allowPrivate: false });
    // Distinct paths: the spellings are one URL once parsed, and a URL is checked once.
    const urls = [
      `http://127.0.0.1:${port}/1`,
      `http://2130706433:${port}/2`,
      `http://0x7f.1:${port}/3`,
      `http://0177.0.0.1:${port}/4`,
      `http://[::1]:${port}/5`,
      `http://[::ffff:127.0.0.1]:${port}/6`,
      `http://[64:ff9b::127.0.0.1]:${port}/7`,
      `http://[::ffff:169.254.169.254]:${port}/8`,
    ];
    const report = await links.check({ html: html(...urls), text: null }, { follow: true });
    expect(report.links.map((l) => l.outcome)).toEqual(urls.map(() => 'refused'));
    expect(report.links[1]!.reason).toMatch(/^127\.0\.0\.1 is a loopback address; not fetched/);
    expect(report.links[5]!.reason).toMatch(/^::ffff:7f00:1 is the IPv4-mapped form of 127\.0\.0\.1/);
    expect(report.links[6]!.reason).toMatch(/^64:ff9b::7f00:1 is the NAT64 form of 127\.0\.0\.1/);
    expect(report).toMatchObject({ checked: 0, errors: urls.length });
    expect(hops).toHaveLength(0);
    expect(server.connections).toBe(0);
  });

  it('refuses a name that resolves to a private address, asking DNS once and connecting nowhere', async () => {
    const dns = await startDnsServer({ 'intranet.test': { A: ['10.0.0.1'] }, 'metadata.test': { A: ['169.254.169.254'] }, 'cgnat.test': { AAAA: ['::ffff:100.64.0.1'] } });
    servers.push(dns);
    const { links, hops } = checker({ allowPrivate: false }, { lookup: dnsServerLookup([dns.address]) });
    const report = await links.check({ html: html('http://intranet.test/', 'https://metadata.test/latest/', 'http://cgnat.test/'), text: null }, { follow: true });
    expect(report.links.map((l) => [l.outcome, l.reason])).toEqual([
      ['refused', 'intranet.test resolves to 10.0.0.1 is a private address (RFC 1918); not fetched (--link-check-private allows it)'],
      ['refused', 'metadata.test resolves to 169.254.169.254 is a link-local address; not fetched (--link-check-private allows it)'],
      ['refused', expect.stringMatching(/^cgnat\.test resolves to ::ffff:100\.64\.0\.1 is the IPv4-mapped form of 100\.64\.0\.1, a carrier-grade NAT address/)],
    ]);
    expect(dns.queries.map((q) => q.name)).toContain('intranet.test');
    expect(hops).toHaveLength(0);
  });

  it('checks every redirect hop: a redirect to a private address is refused, not followed', async () => {
    // The first hop must be "public" to be fetched at all; every server here is on loopback, so
    // this one loopback address is let through as if public, and everything else is judged as usual.
    const internal = await serve((_req, res) => res.writeHead(200).end('secret'));
    const site = await serve((req, res) => {
      if (req.url === '/to-ip') res.writeHead(302, { Location: `http://10.0.0.1:${internal.port}/admin` }).end();
      else if (req.url === '/to-name') res.writeHead(301, { Location: `http://intranet.test:${internal.port}/admin` }).end();
      else res.writeHead(307, { Location: `http://127.0.0.2:${internal.port}/admin` }).end();
    });
    const names = { 'public.test': '127.0.0.1', 'intranet.test': '10.0.0.1' } as Record<string, string>;
    const asked: string[] = [];
    const lookup: HostLookup = async (host) => {
      asked.push(host);
      return [{ address: names[host]!, family: 4 }];
    };
    const { links, hops } = checker(
      { allowPrivate: false },
      { lookup, refusalReason: (address) => (address === '127.0.0.1' ? null : refusalReason(address)) },
    );
    const first = `http://public.test:${site.port}`;
    const report = await links.check({ html: html(`${first}/to-ip`, `${first}/to-name`, `${first}/to-loopback`), text: null }, { follow: true });
    expect(report.links.map((l) => [l.outcome, l.status, l.hops.length])).toEqual([
      ['refused', 302, 1],
      ['refused', 301, 1],
      ['refused', 307, 1],
    ]);
    expect(report.links[0]!.reason).toMatch(/^10\.0\.0\.1 is a private address/);
    expect(report.links[1]!.reason).toMatch(/^intranet\.test resolves to 10\.0\.0\.1/);
    expect(report.links[2]!.reason).toMatch(/^127\.0\.0\.2 is a loopback address/);
    expect(asked).toEqual(expect.arrayContaining(['public.test', 'intranet.test']));
    // Only the first hops were requested; nothing reached the internal server or any 10.x address.
    expect(hops.map((h) => h.address)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1']);
    expect(internal.connections).toBe(0);
  });

  it('connects to the address it vetted, with the link\'s Host header (no second lookup to rebind)', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end());
    // A name only the injected lookup knows: the system resolver would fail, so a connection proves
    // the socket went to the vetted address. The lookup answers once, then would rebind.
    let answers = 0;
    const lookup: HostLookup = async () => [{ address: answers++ === 0 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
    const { links, hops } = checker({ allowPrivate: false }, { lookup, refusalReason: (a) => (a === '127.0.0.1' ? null : refusalReason(a)) });
    const report = await links.check({ html: html(`http://rebind.kotak-test.invalid:${server.port}/x`), text: null }, { follow: false });
    expect(report.links[0]).toMatchObject({ outcome: 'ok', status: 200 });
    expect(answers).toBe(1);
    expect(hops.map((h) => h.address)).toEqual(['127.0.0.1']);
    expect(server.requests[0]!.host).toBe(`rebind.kotak-test.invalid:${server.port}`);
  });
});

describe('link check: bounds', () => {
  it('gives up on a link after the time per link', async () => {
    const server = await serve(() => undefined); // never answers
    const report = await checker({ timeoutMs: 300 }).links.check({ html: html(`${server.url}/slow`), text: null }, { follow: false });
    expect(report.links[0]).toMatchObject({ outcome: 'timeout', status: null, reason: 'no answer within 0.3 s' });
    expect(report.errors).toBe(1);
  });

  it('reads at most 64 KB of an endless body, then drops the connection', async () => {
    let written = 0;
    let closed: () => void;
    const serverClosed = new Promise<void>((resolve) => (closed = resolve));
    const server = await serve((req, res) => {
      if (req.method === 'HEAD') return void res.writeHead(405).end();
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      const chunk = Buffer.alloc(16 * 1024, 120);
      const pump = () => {
        while (!res.destroyed) {
          const more = res.write(chunk);
          written += chunk.length;
          if (!more) break;
        }
      };
      res.on('drain', pump);
      res.on('close', () => closed());
      pump();
    });
    const report = await checker().links.check({ html: html(`${server.url}/huge`), text: null }, { follow: false });
    expect(report.links[0]).toMatchObject({ outcome: 'ok', status: 200, hops: [{ method: 'GET', bodyBytes: MAX_BODY_BYTES }] });
    await serverClosed;
    // The server had more to give than was read.
    expect(written).toBeGreaterThan(MAX_BODY_BYTES);
  });

  /**
   * A request spy that holds each request until `limit` are waiting (or all `total` have come),
   * then lets them go one event-loop turn later: every request the checker would issue without a
   * limit is issued within that turn (slots, lookups and the spy are promise steps, no I/O), so an
   * unbounded checker is caught with more than `limit` in flight.
   */
  function heldRequests(limit: number, total: number) {
    const state = { inFlight: 0, most: 0, started: 0, mostPerHost: 0 };
    const perHost = new Map<string, number>();
    const waiting: (() => void)[] = [];
    const request: LinkCheckDeps['request'] = async (hop) => {
      state.started++;
      state.most = Math.max(state.most, ++state.inFlight);
      const host = hop.url.host;
      perHost.set(host, (perHost.get(host) ?? 0) + 1);
      state.mostPerHost = Math.max(state.mostPerHost, perHost.get(host)!);
      try {
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (state.inFlight === limit || state.started === total) setImmediate(() => waiting.splice(0).forEach((go) => go()));
        });
        return await requestHop(hop);
      } finally {
        state.inFlight--;
        perHost.set(host, perHost.get(host)! - 1);
      }
    };
    return { state, request };
  }

  it('runs at most 2 requests at once to one host', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end());
    const total = 7;
    const held = heldRequests(2, total);
    const { links } = checker({}, { request: held.request });
    const urls = Array.from({ length: total }, (_, i) => `${server.url}/p${i}`);
    const report = await links.check({ html: html(...urls), text: null }, { follow: false });
    expect(report.links.every((l) => l.outcome === 'ok')).toBe(true);
    expect(held.state.most).toBe(2);
    expect(server.requests).toHaveLength(total);
  });

  it('runs at most 5 requests at once in all, across concurrent checks', async () => {
    const server = await serve((_req, res) => res.writeHead(200).end());
    const names = Array.from({ length: 6 }, (_, i) => `h${i}.test`);
    const urls = names.flatMap((name) => [1, 2].map((n) => `http://${name}:${server.port}/${n}`));
    const held = heldRequests(5, urls.length);
    const { links } = checker({}, { lookup: namesToLoopback(names).lookup, request: held.request });
    // Two checks at once share the limit: it is the process's, not one request's.
    const [a, b] = await Promise.all([
      links.check({ html: html(...urls.slice(0, 6)), text: null }, { follow: false }),
      links.check({ html: html(...urls.slice(6)), text: null }, { follow: false }),
    ]);
    expect([...a.links, ...b.links].every((l) => l.outcome === 'ok')).toBe(true);
    expect(held.state.most).toBe(5);
    expect(held.state.mostPerHost).toBe(2);
    expect(new Set(server.requests.map((r) => r.host)).size).toBe(6);
  });

  it('answers 10 MB of deeply nested HTML: the scan is linear in its size', async () => {
    // htmlparser2's own stacks cost O(depth) per tag: this took minutes before src/mail/linear-parser.ts
    // (the scan's 3 s limit, which answers check_too_large, stays as a backstop).
    const { links } = checker();
    const report = await links.check({ html: `${'<div>'.repeat(2 * 1024 * 1024)}<a href="http://a.test/">x</a>`, text: null }, { follow: false });
    expect(report.links.map((l) => l.url)).toEqual(['http://a.test/']);
  });

  it('refuses a message with more text than it scans, with check_too_large', async () => {
    const { links } = checker();
    await expect(links.check({ html: 'x'.repeat(17 * 1024 * 1024), text: null }, { follow: false })).rejects.toMatchObject({ code: 'check_too_large' });
  });
});

describe('link check: TLS', () => {
  it('sends the link\'s host as the TLS server name while connecting by address, and reports certificate errors', async () => {
    const { cert, key } = await createSelfSignedCertificate('secure.test');
    const serverNames: string[] = [];
    const tlsServer = https.createServer({
      cert,
      key,
      SNICallback: (name, done) => {
        serverNames.push(name);
        done(null, undefined);
      },
    });
    const server = await serve((_req, res) => res.writeHead(200).end(), tlsServer as unknown as http.Server);
    const { links } = checker({}, { lookup: namesToLoopback(['secure.test']).lookup });
    const report = await links.check({ html: html(`https://secure.test:${server.port}/`), text: null }, { follow: false });
    expect(report.links[0]).toMatchObject({ outcome: 'failed', status: null });
    expect(report.links[0]!.reason).toMatch(/self[- ]signed|certificate/i);
    expect(serverNames).toContain('secure.test');
  });
});
