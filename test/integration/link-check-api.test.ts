/**
 * The link check through Kotak's HTTP API, Mailpit's route (driven by the real `mailpit-api`
 * client) and `kotak/client`, against a Kotak in this process whose link-check lookup is injected:
 * every name resolves to 127.0.0.1, where the test's own HTTP server listens on port 0.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { MailpitClient } from 'mailpit-api';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import type { HostLookup } from '../../src/checks/links/lookup.js';
import { KotakClient } from '../../src/client/index.js';
import { resolveConfig } from '../../src/config.js';
import { LinkCheckSchema } from '../../src/api/schemas.js';
import { getJson, transport, type RunningKotak } from '../helpers/kotak.js';

const toLoopback: HostLookup = async () => [{ address: '127.0.0.1', family: 4 }];
const LIBRARY: Record<string, string> = { smtp: '127.0.0.1:0', http: '127.0.0.1:0', db: ':memory:', logLevel: 'silent', parseWorkers: '1' };

let site: http.Server;
let sitePort: number;
const seenPaths: string[] = [];
let privateOn: RunningKotak;
let privateOff: RunningKotak;

beforeAll(async () => {
  site = http.createServer((req, res) => {
    seenPaths.push(req.url!);
    if (req.url === '/missing') res.writeHead(404).end();
    else if (req.url === '/moved') res.writeHead(301, { Location: '/ok' }).end();
    else res.writeHead(200).end();
  });
  site.listen(0, '127.0.0.1');
  await once(site, 'listening');
  sitePort = (site.address() as AddressInfo).port;
  privateOn = await startApp(resolveConfig({ ...LIBRARY, linkCheckPrivate: 'true' }), { linkCheckLookup: toLoopback });
  privateOff = await startApp(resolveConfig(LIBRARY), { linkCheckLookup: toLoopback });
});

afterAll(async () => {
  await privateOn?.stop();
  await privateOff?.stop();
  site?.closeAllConnections();
  await new Promise((resolve) => site?.close(resolve));
});

/** Sends a message with these links; the 250 reply means stored, so its id is readable at once. */
async function sendLinks(kotak: RunningKotak, subject: string): Promise<string> {
  const base = `http://app.test:${sitePort}`;
  await transport(kotak).sendMail({
    from: 'app@example.test',
    to: 'user@example.test',
    subject,
    html: `<a href="${base}/ok">ok</a> <a href="${base}/missing">gone</a> <a href="${base}/moved">moved</a> <img src="${base}/logo.png"> <a href="mailto:help@example.test">help</a>`,
    text: `Visit ${base}/ok`,
  });
  const { body } = await getJson<{ messages: { id: string }[] }>(kotak, `/api/messages?query=${encodeURIComponent(`subject:"${subject}"`)}`);
  return body.messages[0]!.id;
}

describe('GET /api/messages/{id}/checks/links', () => {
  it('checks each link (with --link-check-private) and answers in the documented shape', async () => {
    const id = await sendLinks(privateOn, 'kotak route');
    const { status, body } = await getJson(privateOn, `/api/messages/${id}/checks/links`);
    expect(status).toBe(200);
    expect(LinkCheckSchema.safeParse(body).error).toBeUndefined();
    expect(body).toMatchObject({ follow: false, found: 5, omitted: 0, checked: 4, errors: 1 });
    expect(body.links.map((l: { url: string; outcome: string; status: number | null }) => [l.url.replace(/^http:\/\/app\.test:\d+/, ''), l.outcome, l.status])).toEqual([
      ['/ok', 'ok', 200],
      ['/missing', 'broken', 404],
      ['/moved', 'ok', 301],
      ['/logo.png', 'ok', 200],
      ['mailto:help@example.test', 'not-checked', null],
    ]);
    const followed = await getJson(privateOn, `/api/messages/${id}/checks/links?follow=true`);
    expect(followed.body.follow).toBe(true);
    expect(followed.body.links[2]).toMatchObject({ outcome: 'ok', status: 200, hops: [{ status: 301, location: '/ok' }, { status: 200 }] });
  });

  it('refuses loopback targets by default, fetching nothing', async () => {
    const before = seenPaths.length;
    const id = await sendLinks(privateOff, 'private off');
    const { body } = await getJson(privateOff, `/api/messages/${id}/checks/links?follow=true`);
    expect(body.links.filter((l: { outcome: string }) => l.outcome === 'refused')).toHaveLength(4);
    expect(body.links[0].reason).toMatch(/^app\.test resolves to 127\.0\.0\.1 is a loopback address; not fetched \(--link-check-private allows it\)$/);
    expect(body).toMatchObject({ checked: 0, errors: 4 });
    expect(seenPaths.length).toBe(before);
  });

  it('is 404 for an unknown id and 400 for a bad follow value', async () => {
    expect((await getJson(privateOn, '/api/messages/nope/checks/links')).status).toBe(404);
    const id = await sendLinks(privateOn, 'bad follow');
    const bad = await getJson(privateOn, `/api/messages/${id}/checks/links?follow=perhaps`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
  });

  it('is in the OpenAPI document as checkLinks', async () => {
    const { body } = await getJson(privateOn, '/api/openapi.json');
    expect(body.paths['/api/messages/{id}/checks/links'].get.operationId).toBe('checkLinks');
  });
});

describe('--link-check-private', () => {
  it('is logged as a warning at start', async () => {
    const lines: { level: number; msg: string; linkCheckPrivate?: boolean }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
        done();
      },
    });
    const log = pino({ level: 'info' }, sink);
    const withWarning = await startApp(resolveConfig({ ...LIBRARY, linkCheckPrivate: 'true' }), { log });
    const without = await startApp(resolveConfig(LIBRARY), { log: log.child({ second: true }) });
    await Promise.all([withWarning.stop(), without.stop()]);
    const warnings = lines.filter((l) => l.level === 40 && l.linkCheckPrivate === true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/link check may fetch loopback and private addresses/);
  });
});

describe("Mailpit's link-check route", () => {
  it("answers mailpit-api's linkCheck() in Mailpit's shape", async () => {
    const id = await sendLinks(privateOn, 'mailpit route');
    const mailpit = new MailpitClient(privateOn.url);
    const report = await mailpit.linkCheck(id);
    const path = (url: string) => url.replace(/^http:\/\/app\.test:\d+/, '');
    // Only http(s) links, as Mailpit; a redirect not followed is its own status.
    expect(report.Links.map((l) => [path(l.URL), l.StatusCode, l.Status])).toEqual([
      ['/ok', 200, 'OK'],
      ['/missing', 404, 'Not Found'],
      ['/moved', 301, 'Moved Permanently'],
      ['/logo.png', 200, 'OK'],
    ]);
    expect(report.Errors).toBe(1);
    const followed = await mailpit.linkCheck(id, true);
    expect(followed.Links.map((l) => l.StatusCode)).toEqual([200, 404, 200, 200]);
    // "latest" is the newest message, as everywhere in Mailpit's API.
    expect((await mailpit.linkCheck()).Links).toHaveLength(4);
  });

  it('reports refused links as status 0 with the reason, counted as errors', async () => {
    const id = await sendLinks(privateOff, 'mailpit refused');
    const report = await new MailpitClient(privateOff.url).linkCheck(id, true);
    expect(report.Errors).toBe(4);
    expect(report.Links[0]).toMatchObject({ StatusCode: 0, Status: expect.stringMatching(/loopback address; not fetched/) });
  });

  it('answers an unknown id with 404 in plain text', async () => {
    await expect(new MailpitClient(privateOn.url).linkCheck('nope')).rejects.toThrow(/404/);
  });
});

describe('kotak/client message.checks.links()', () => {
  it('runs the check for the message, following redirects when asked', async () => {
    const id = await sendLinks(privateOn, 'client');
    const message = await new KotakClient(privateOn.url).get(id);
    const plain = await message.checks.links();
    expect(plain.follow).toBe(false);
    expect(plain.links.find((l) => l.url.endsWith('/moved'))).toMatchObject({ outcome: 'ok', status: 301 });
    const followed = await message.checks.links({ follow: true });
    expect(followed.links.find((l) => l.url.endsWith('/moved'))).toMatchObject({ outcome: 'ok', status: 200, hops: [{ status: 301 }, { status: 200 }] });
  });
});
