/**
 * Hostile messages in the real inbox (Chromium through playwright-core): script payloads in the
 * HTML body, text body, subject, From display name, attachment filename, Content-ID (and a cid:
 * reference to it), header values and names, links, an SVG attachment and an HTML attachment;
 * remote references (http://198.51.100.1/, https://evil.example/) in images, CSS @import, fonts,
 * link prefetch, meta refresh, background URLs, srcset and video posters. Each message is opened
 * in the inbox, every tab of it clicked through (HTML, Text, Headers, Raw, Attachments, Links),
 * and its documents and attachments are also opened directly.
 *
 * Nothing may run: every payload logs KOTAK-XSS to the console, posts a message to its parent,
 * sets window.__xss and top.__xss and calls alert(); the test listens for all of these in the top
 * page and every frame. Nothing may leave 127.0.0.1: Chromium is started with a proxy that
 * records whatever is not loopback (and answers nothing useful), every request of the context is
 * observed, and DNS resolves only 127.0.0.1. No sleeps: each check follows a load event.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, eventually } from '../helpers/browser.js';
import { withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

/** Every payload does all of these; any one of them seen is a failure. */
const JS = "console.log('KOTAK-XSS');parent.postMessage('kotak-xss','*');window.__xss=1;alert('KOTAK-XSS');top.__xss=1";
const R1 = 'http://198.51.100.1';
const R2 = 'https://evil.example';
const PIXEL_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
const SVG = `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="${JS}"><script>${JS}</script><image href="${R1}/svg-image.png" width="10" height="10"/><a xlink:href="javascript:${JS}"><text y="20">svg link</text></a><foreignObject><iframe xmlns="http://www.w3.org/1999/xhtml" src="javascript:${JS}"></iframe></foreignObject></svg>`;
const HTML_ATTACHMENT = `<!doctype html><html><head><meta http-equiv="refresh" content="0;url=${R2}/refresh-attachment"><link rel="stylesheet" href="${R2}/attachment.css"></head><body onload="${JS}"><script>${JS}</script><img src="${R1}/attachment.png" onerror="${JS}">html attachment</body></html>`;

/** The HTML body: script vectors, mutation-XSS shapes, and every kind of remote reference. */
const HOSTILE_HTML = `<!doctype html><html><head>
<meta http-equiv="refresh" content="0;url=${R2}/meta-refresh">
<meta http-equiv="refresh" content="0;url=javascript:${JS}">
<meta http-equiv="Content-Security-Policy" content="default-src *; script-src * 'unsafe-inline'">
<base href="${R2}/base/">
<link rel="stylesheet" href="${R2}/link.css">
<link rel="prefetch" href="${R1}/prefetch">
<link rel="preload" as="image" href="${R1}/preload.png">
<link rel="dns-prefetch" href="//dns-prefetch.evil.example">
<link rel="preconnect" href="${R2}/">
<link rel="icon" href="${R1}/favicon.ico">
<link rel="import" href="${R2}/import.html">
<style>
@import url("${R2}/import.css");
@import '${R1}/import2.css';
@font-face { font-family: evil; src: url(${R1}/font.woff2) format("woff2"), url('${R2}/font.ttf'); }
body { background: url(${R1}/body-bg.png); font-family: evil; }
.x { background-image: image-set("${R2}/image-set.png" 1x); behavior: url(${R2}/x.htc); -moz-binding: url(${R2}/x.xml#x); }
li { list-style-image: url(${R2}/bullet.png); }
</style>
<script>${JS}</script>
<script src="${R2}/script.js"></script>
</head><body onload="${JS}" background="${R1}/body-attr.png">
<p>Hostile HTML marker</p>
<img src="x" onerror="${JS}">
<img src="${R1}/img.png" alt="remote image">
<img src="relative-to-base.png" alt="relative">
<img srcset="${R2}/srcset-1x.png 1x, ${R1}/srcset-2x.png 2x" alt="srcset">
<picture><source srcset="${R1}/picture.webp" type="image/webp"><img src="${R2}/picture.png" alt="picture"></picture>
<video poster="${R2}/poster.png" src="${R1}/video.mp4" autoplay><source src="${R2}/source.mp4" onerror="${JS}"><track src="${R1}/track.vtt"></video>
<audio src="${R1}/audio.mp3" autoplay></audio>
<table background="${R2}/table-bg.png"><tr><td background="${R1}/td-bg.png">cell</td></tr></table>
<div style="background:url('${R1}/inline-style-bg.png')">styled</div>
<div style="background-image:url(&quot;${R2}/entity-bg.png&quot;)">entity styled</div>
<div style="width: expression(alert('KOTAK-XSS'))">expression</div>
<svg onload="${JS}"><image href="${R1}/svg-inline.png"/><use href="${R2}/use.svg#x"/><animate attributeName="href" values="javascript:${JS}"/><set attributeName="onmouseover" to="${JS}"/></svg>
<svg><style><img src=x onerror="${JS}"></style></svg>
<math><mtext><table><mglyph><style><img src=x onerror="${JS}"></style></mglyph></table></mtext></math>
<noscript><p title="</noscript><img src=x onerror=&quot;${JS}&quot;>"></p></noscript>
<xmp><img src=x onerror="${JS}"></xmp>
<iframe src="javascript:${JS}"></iframe>
<iframe srcdoc="<script>${JS}</script>"></iframe>
<iframe src="data:text/html;base64,${Buffer.from(`<script>${JS}</script>`).toString('base64')}"></iframe>
<iframe src="${R2}/frame.html"></iframe>
<object data="${R2}/object.swf"></object>
<object data="data:text/html,<script>${JS}</script>"></object>
<embed src="${R1}/embed.svg">
<form action="${R2}/form"><input type="image" src="${R1}/input-image.png"><button formaction="javascript:${JS}">go</button></form>
<details open ontoggle="${JS}"><summary>details</summary></details>
<marquee onstart="${JS}">marquee</marquee>
<a id="js-link" href="javascript:${JS}">javascript link</a>
<a id="entity-link" href="jav&#x09;ascript:${JS}">entity javascript link</a>
<a id="data-link" href="data:text/html,<script>${JS}</script>">data link</a>
<a href="${R2}/click">a remote link (never clicked)</a>
<img src="cid:logo@kotak.test" alt="cid logo">
<img src="cid:vector@kotak.test" alt="cid svg">
<object data="cid:vector@kotak.test"></object>
<embed src="cid:vector@kotak.test">
<iframe src="cid:vector@kotak.test"></iframe>
<template><script>${JS}</script></template>
</body></html>`;

type TabName = 'HTML' | 'Text' | 'Headers' | 'Raw' | 'Attachments' | 'Links';

interface Built {
  readonly subject: string;
  readonly raw: Buffer;
  /** Payload text that must be on screen, as text, on a tab (the tab's panel must contain it). */
  readonly shows?: Partial<Record<TabName, string[]>>;
}

function mime(headers: string[], body: string): Buffer {
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`.replace(/\r?\n/g, '\r\n'), 'utf8');
}

const b64 = (text: string | Buffer): string => (typeof text === 'string' ? Buffer.from(text) : text).toString('base64').replace(/.{76}/g, '$&\r\n');
const encodedWord = (text: string): string => `=?utf-8?B?${Buffer.from(text).toString('base64')}?=`;

const MESSAGES: Built[] = [
  {
    subject: 'XSS html body',
    raw: mime(
      ['From: html@example.com', 'To: dev@example.com', 'Subject: XSS html body', 'MIME-Version: 1.0', 'Content-Type: multipart/related; boundary="rel"'],
      `--rel\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n` +
        `--alt\r\nContent-Type: text/plain\r\n\r\nplain alternative\r\n` +
        `--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(HOSTILE_HTML)}\r\n--alt--\r\n` +
        `--rel\r\nContent-Type: image/png\r\nContent-ID: <logo@kotak.test>\r\nContent-Transfer-Encoding: base64\r\n\r\n${PIXEL_B64}\r\n` +
        `--rel\r\nContent-Type: image/svg+xml\r\nContent-ID: <vector@kotak.test>\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64(SVG)}\r\n--rel--\r\n`,
    ),
  },
  {
    subject: 'XSS text body',
    raw: mime(
      ['From: text@example.com', 'To: dev@example.com', 'Subject: XSS text body', 'Content-Type: text/plain; charset=utf-8'],
      `<script>${JS}</script>\n<img src=x onerror="${JS}">\n"><svg onload="${JS}">\njavascript:${JS}\n${R2}/text-link\n</pre><img src=x onerror="${JS}">`,
    ),
    shows: { Text: [`<script>${JS}</script>`, '</pre><img src=x onerror='], Raw: [`<script>${JS}</script>`] },
  },
  {
    subject: 'XSS utf-7 body',
    raw: mime(
      ['From: utf7@example.com', 'To: dev@example.com', 'Subject: XSS utf-7 body', 'Content-Type: text/html; charset=utf-7'],
      `+ADw-script+AD4-alert('KOTAK-XSS')+ADw-/script+AD4-<p>utf-7 marker</p>`,
    ),
  },
  {
    subject: `XSS subject <script>${JS}</script><img src=x onerror="${JS}">`,
    raw: mime(
      [
        `From: "<img src=x onerror=\\"${JS}\\">" <evil@example.com>`,
        `To: "</dd><script>${JS}</script>" <dev@example.com>`,
        `Cc: ${encodedWord(`<svg onload="${JS}">`)} <cc@example.com>`,
        `Reply-To: "<iframe src=javascript:${JS}>" <reply@example.com>`,
        `Subject: XSS subject <script>${JS}</script><img src=x onerror="${JS}">`,
        `X-Custom: <script>${JS}</script>`,
        `X-Attr: "><img src=x onerror="${JS}">`,
        `X-<svg/onload=${JS.replace(/[ :]/g, '')}>: odd header name`,
        `X-Encoded: ${encodedWord(`<img src=x onerror="${JS}">`)}`,
        'Content-Type: text/html; charset=utf-8',
      ],
      '<p>Headers marker</p>',
    ),
    shows: { Headers: [`<script>${JS}</script>`, 'X-<svg/onload=', '"><img src=x onerror=', '<img src=x onerror="'], Raw: ['X-<svg/onload='] },
  },
  {
    subject: 'XSS encoded subject',
    raw: mime(
      [`From: ${encodedWord(`<img src=x onerror="${JS}">`)} <evil2@example.com>`, 'To: dev@example.com', `Subject: XSS encoded subject ${encodedWord(`<script>${JS}</script>`)}`, 'Content-Type: text/plain'],
      'encoded subject marker',
    ),
    shows: { Headers: [`XSS encoded subject <script>${JS}</script>`] },
  },
  {
    subject: 'XSS attachments',
    raw: mime(
      ['From: files@example.com', 'To: dev@example.com', 'Subject: XSS attachments', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="mix"'],
      `--mix\r\nContent-Type: text/html\r\n\r\n<p>Attachments marker</p><img src="cid:&quot;&gt;&lt;img src=x onerror=${JS}&gt;" alt="odd cid"><img src="cid:javascript:alert(1)" alt="js cid">\r\n` +
        `--mix\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="<img src=x onerror=\\"${JS}\\">.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n${PIXEL_B64}\r\n` +
        `--mix\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=utf-8''%22%3E%3Csvg%20onload%3D${encodeURIComponent(JS)}%3E.txt\r\n\r\nrfc 2231 name\r\n` +
        `--mix\r\nContent-Type: image/png\r\nContent-ID: <"><img src=x onerror="${JS}">>\r\nContent-Disposition: inline; filename="cid.png"\r\nContent-Transfer-Encoding: base64\r\n\r\n${PIXEL_B64}\r\n` +
        `--mix\r\nContent-Type: image/png\r\nContent-ID: <javascript:alert(1)>\r\nContent-Transfer-Encoding: base64\r\n\r\n${PIXEL_B64}\r\n` +
        `--mix\r\nContent-Type: image/svg+xml\r\nContent-Disposition: attachment; filename="vector.svg"\r\n\r\n${SVG}\r\n` +
        `--mix\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename="svg-as-png.png"\r\n\r\n${SVG}\r\n` +
        `--mix\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename="page.html"\r\n\r\n${HTML_ATTACHMENT}\r\n` +
        `--mix\r\nContent-Type: text/html; name="<script>${JS}</script>"\r\n\r\n${HTML_ATTACHMENT}\r\n--mix--\r\n`,
    ),
    shows: { Attachments: ['<img src=x onerror="', '"><svg onload=', 'vector.svg', 'page.html', 'svg-as-png.png'] },
  },
  {
    subject: 'XSS links',
    raw: mime(
      ['From: links@example.com', 'To: dev@example.com', 'Subject: XSS links', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="alt"'],
      `--alt\r\nContent-Type: text/plain\r\n\r\nvisit javascript:${JS} or data:text/html,<script>${JS}</script> or ${R1}/plain-link\r\n` +
        `--alt\r\nContent-Type: text/html\r\n\r\n<p>Links marker</p>` +
        `<a href="javascript:${JS}">js</a> <a href=" JaVaScRiPt:${JS}">mixed case</a> <a href="vbscript:msgbox(1)">vb</a>` +
        `<a href="data:text/html;base64,${Buffer.from(`<script>${JS}</script>`).toString('base64')}">data</a>` +
        `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:${JS}">entities</a>` +
        `<area href="javascript:${JS}"><a href="${R2}/ok">remote (listed, not clicked)</a>\r\n--alt--\r\n`,
    ),
    shows: { Links: [`javascript:${JS}`, 'vbscript:msgbox(1)'] },
  },
];

/** An HTTP proxy on loopback that records every request sent to it and answers 403. */
async function startRecordingProxy(): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(403).end();
  });
  server.on('connect', (req, socket: Socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.on('error', () => undefined); // the browser may reset a refused tunnel
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  server.on('connection', (socket: Socket) => {
    socket.on('error', () => undefined);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

interface Alarms {
  dialogs: string[];
  consoleHits: string[];
  requests: string[];
  offLoopback: string[];
  popups: string[];
}

const isLoopback = (url: string): boolean => /^(data|blob|about):/.test(url) || new URL(url).hostname === '127.0.0.1';

let kotak: RunningKotak;
let browser: Browser;
let context: BrowserContext;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
const ids = new Map<string, string>();
const newAlarms = (): Alarms => ({ dialogs: [], consoleHits: [], requests: [], offLoopback: [], popups: [] });
const alarms = newAlarms();

function watch(page: Page, alarms: Alarms): void {
  page.on('dialog', (dialog) => {
    alarms.dialogs.push(`${page.url()}: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss().catch(() => undefined);
  });
  page.on('console', (message) => {
    if (message.text().includes('KOTAK-XSS')) alarms.consoleHits.push(`${message.location().url}: ${message.text()}`);
  });
  page.on('websocket', (ws) => {
    if (!isLoopback(ws.url().replace(/^ws/, 'http'))) alarms.offLoopback.push(`websocket ${ws.url()}`);
  });
}

async function newPage(on = context, into = alarms): Promise<Page> {
  const page = await on.newPage();
  watch(page, into);
  // Counts messages posted to the top page (a payload in a frame calling parent.postMessage).
  await page.addInitScript(() => {
    const w = globalThis as unknown as { __xssMessages: number; addEventListener(t: string, f: (e: { data: unknown }) => void): void };
    w.__xssMessages = 0;
    w.addEventListener('message', (e) => {
      if (String(e.data).includes('kotak-xss')) w.__xssMessages++;
    });
  });
  return page;
}

/** Nothing ran in the top page or in any of its frames. Frames where no script can run cannot be read either: that counts as clean. */
async function expectNothingRan(page: Page): Promise<void> {
  const seen = await whatRan(page);
  expect(seen.top, page.url()).toEqual({ xss: undefined, messages: 0 });
  expect(seen.frames, 'window.__xss in frames').toEqual([]);
  expect(alarms.dialogs).toEqual([]);
  expect(alarms.consoleHits).toEqual([]);
  expect(alarms.popups).toEqual([]);
}

/**
 * The inbox's own document holds nothing active from a message: no event-handler attribute, no
 * script but its own bundle, no script-capable URL, no frame but the sandboxed message one.
 */
async function expectCleanAppDom(page: Page): Promise<void> {
  const found = (await page.evaluate(`(() => {
    const all = [...document.querySelectorAll('*')];
    return {
      handlers: all.flatMap((el) => [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => el.tagName + ' ' + a.name)),
      scripts: [...document.scripts].filter((s) => !s.src || new URL(s.src).origin !== location.origin).map((s) => s.outerHTML.slice(0, 80)),
      // The only data: URLs allowed are the app's own favicon: the empty one of index.html (data:,)
      // and the PNG the app draws (web/src/favicon.ts) on <link rel="icon">. A raster image cannot
      // carry a script; an SVG or HTML one could.
      urls: all.flatMap((el) => ['href', 'src', 'action', 'formaction', 'srcdoc', 'data']
        .map((n) => el.getAttribute(n))
        .filter((v) => v !== null && v !== 'data:,' && !(el.matches('head > link[rel="icon"]') && /^data:image\\/png;base64,[A-Za-z0-9+\\/=]*$/.test(v)) && /^[\\s\\u0000-\\u001f]*(javascript|vbscript|data):/i.test(v))),
      frames: [...document.querySelectorAll('iframe, frame, object, embed')].map((f) => f.tagName + ' ' + (f.getAttribute('title') || '') + ' ' + (f.getAttribute('sandbox') ?? 'no sandbox')),
    };
  })()`)) as { handlers: string[]; scripts: string[]; urls: string[]; frames: string[] };
  expect(found.handlers, 'event handler attributes in the inbox').toEqual([]);
  expect(found.scripts, 'scripts in the inbox').toEqual([]);
  expect(found.urls, 'script-capable URLs in the inbox').toEqual([]);
  for (const frame of found.frames) expect(frame).toBe('IFRAME Message HTML allow-popups allow-popups-to-escape-sandbox');
}

/** The flags a payload sets: in the top page, and in every frame a script could read (a frame where none can run cannot be read either). */
async function whatRan(page: Page): Promise<{ top: { xss: unknown; messages: number }; frames: string[]; unreadable: number }> {
  const top = await page.evaluate(() => {
    const w = globalThis as unknown as { __xss?: unknown; __xssMessages?: number };
    return { xss: w.__xss, messages: w.__xssMessages ?? 0 };
  });
  const frames: string[] = [];
  let unreadable = 0;
  for (const frame of page.frames()) {
    const flag = await frame.evaluate(() => (globalThis as unknown as { __xss?: unknown }).__xss).catch(() => {
      unreadable++;
      return undefined;
    });
    if (flag !== undefined) frames.push(frame.url());
  }
  return { top, frames, unreadable };
}

beforeAll(async () => {
  [kotak, proxy] = await Promise.all([withKotak(), startRecordingProxy()]);
  browser = await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run', '--disable-extensions',
      // Whatever is not loopback goes to the recording proxy (Chromium never proxies loopback);
      // and nothing resolves but 127.0.0.1, so even a request that escaped both could not leave.
      `--proxy-server=http://127.0.0.1:${proxy.port}`,
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      // Less of Chromium's own traffic (it goes to the proxy too, and is told apart below).
      '--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate',
      '--disable-sync', '--disable-component-update', '--disable-default-apps', '--disable-domain-reliability', '--no-pings',
    ],
  });
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  // Generous deadlines for a shared, busy machine; nothing asserts on time.
  context.setDefaultTimeout(60_000);
  context.setDefaultNavigationTimeout(60_000);
  context.on('request', (request) => {
    alarms.requests.push(request.url());
    if (!isLoopback(request.url())) alarms.offLoopback.push(`${request.resourceType()} ${request.url()}`);
  });
  context.on('page', (page) => {
    if (page.url() && page.url() !== 'about:blank') alarms.popups.push(page.url());
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame() && !isLoopback(frame.url())) alarms.popups.push(frame.url());
    });
  });
  // Anything else that leaves loopback is recorded (above) and refused here before it is sent.
  await context.route(
    (url) => !isLoopback(url.href),
    (route) => route.abort('blockedbyclient'),
  );
  for (const message of MESSAGES) {
    const reply = await sendRaw(kotak.smtpPort, message.raw);
    expect(reply.code, reply.text).toBe(250);
    ids.set(message.subject, queuedId(reply));
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
  await proxy?.close();
});

describe('hostile messages in the inbox', { timeout: 180_000 }, () => {
  it('lists them with every field as text', async () => {
    const page = await newPage();
    await page.goto(kotak.url);
    await page.getByRole('status', { name: /Live updates: Live/ }).waitFor();
    await eventually(() => page.getByRole('listitem').count()).toBe(MESSAGES.length);
    await page.getByRole('listitem').filter({ hasText: `XSS subject <script>${JS}</script>` }).waitFor(); // the subject, as text
    await page.getByRole('listitem').filter({ hasText: '<img src=x onerror=' }).first().waitFor(); // a display name, as text
    await expectNothingRan(page);
    await page.close();
  });

  for (const { subject, shows } of MESSAGES) {
    it(`opens "${subject.slice(0, 40)}" and every tab of it: nothing runs, nothing is fetched from elsewhere`, async () => {
      const id = ids.get(subject)!;
      const page = await newPage();
      const htmlResponses: { url: string; csp: string | null }[] = [];
      page.on('response', (response) => {
        if (/\/api\/messages\/[^/]+\/html/.test(response.url())) htmlResponses.push({ url: response.url(), csp: response.headers()['content-security-policy'] ?? null });
      });
      await page.goto(`${kotak.url}/messages/${id}`);
      await page.getByRole('heading', { level: 1 }).waitFor();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain(subject.split(' ').slice(0, 2).join(' '));
      const detail = (await (await fetch(`${kotak.url}/api/messages/${id}`)).json()) as { html: string | null; attachments: { id: string }[] };

      const tabs = page.getByRole('tablist', { name: 'Message parts' }).getByRole('tab');
      const names = (await tabs.allTextContents()).filter(Boolean);
      expect(names).toEqual([...(detail.html !== null ? ['HTML', 'HTML source'] : []), 'Text', 'Headers', 'Raw', `Attachments (${detail.attachments.length})`, expect.stringMatching(/^Links \(\d+\)$/), 'Checks']);
      for (const name of names) {
        const tab = page.getByRole('tab', { name, exact: true });
        await tab.click();
        await eventually(() => tab.getAttribute('aria-selected')).toBe('true');
        if (name === 'HTML') {
          const iframe = page.locator('iframe[title="Message HTML"]');
          await iframe.waitFor();
          const sandbox = ((await iframe.getAttribute('sandbox')) ?? 'missing').split(/\s+/);
          expect(sandbox).not.toContain('allow-scripts');
          expect(sandbox).not.toContain('allow-same-origin');
          expect(sandbox).not.toContain('missing');
          const htmlFrame = (): Frame | undefined => page.frames().find((f) => f.url().includes(`/messages/${id}/html`));
          await eventually(() => Boolean(htmlFrame())).toBe(true);
          const frame = htmlFrame()!;
          await frame.waitForLoadState('load');
          await frame.getByText(/marker/).first().waitFor();
          // Links that would run script are neutralised: clicking them does nothing.
          for (const link of await frame.locator('a[id]').all()) await link.click({ timeout: 5_000 }).catch(() => undefined);
          await frame.waitForLoadState('load');
          await expectChildFramesLoaded(frame);
          await expectNothingRan(page); // while the message's frame is there
        }
        if (name === 'Raw') await page.getByLabel('Raw source').waitFor();
        const tabName = name.replace(/ \(\d+\)$/, '') as TabName;
        for (const text of shows?.[tabName] ?? []) await page.getByRole('tabpanel').getByText(text, { exact: false }).first().waitFor();
        await expectCleanAppDom(page);
        if (name.startsWith('Attachments') && detail.attachments.length > 0) {
          // Previews (images only) are loaded by the page itself.
          for (const img of await page.locator('img.preview').all()) await eventually(() => img.evaluate((el: { complete: boolean }) => el.complete)).toBe(true);
        }
      }
      await page.waitForLoadState('load');
      await expectNothingRan(page);

      // The HTML document came with its own CSP that runs nothing and fetches nothing remote.
      if (detail.html !== null) {
        expect(htmlResponses.length).toBeGreaterThan(0);
        for (const { url, csp } of htmlResponses) {
          expect(csp, url).toMatch(/default-src 'none'/);
          expect(csp, url).not.toMatch(/script-src/);
          expect(csp, url).toMatch(/(^|;)\s*sandbox\b(?![^;]*allow-scripts)/);
        }
      }
      await page.close();
    });
  }

  it('runs nothing when a message document, attachment or raw source is opened directly', async () => {
    const page = await newPage();
    const downloads: string[] = [];
    page.on('download', (download) => downloads.push(download.suggestedFilename()));
    const open = async (url: string): Promise<void> => {
      // An attachment or the raw source is a download, not a document: goto then reports "Download is starting".
      await page.goto(url).catch((err: Error) => {
        if (!/Download is starting|net::ERR_ABORTED/.test(err.message)) throw err;
      });
      await page.waitForLoadState('load');
      await expectChildFramesLoaded(page.mainFrame());
      await expectNothingRan(page);
    };
    for (const { subject } of MESSAGES) {
      const id = ids.get(subject)!;
      const detail = (await (await fetch(`${kotak.url}/api/messages/${id}`)).json()) as { html: string | null; attachments: { id: string; filename: string | null; contentType: string }[] };
      if (detail.html !== null) {
        await open(`${kotak.url}/api/messages/${id}/html`);
        await open(`${kotak.url}/view/${id}.html`); // the Mailpit-compatible view
      }
      await open(`${kotak.url}/api/messages/${id}/raw`);
      for (const part of detail.attachments) {
        const res = await fetch(`${kotak.url}/api/messages/${id}/parts/${part.id}`);
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        // Never served as a type the browser would render as a document or run.
        expect(res.headers.get('content-type') ?? '', `${part.contentType} ${part.filename}`).not.toMatch(/html|svg|xml|javascript/i);
        expect(res.headers.get('content-disposition') ?? '').toMatch(/^attachment/);
        await open(`${kotak.url}/api/messages/${id}/parts/${part.id}`);
      }
    }
    await page.close();
  });

  it('never fetched anything from outside 127.0.0.1', () => {
    expect(alarms.requests.length).toBeGreaterThan(MESSAGES.length); // it did observe the pages' own requests
    expect(alarms.offLoopback).toEqual([]);
    // Chromium's own services (sign-in, autofill) reach the proxy too; no page asked for them.
    expect(proxy.seen.filter((line) => !BROWSER_OWN.test(line))).toEqual([]);
  });

  // Controls: the same detectors, on a page where a payload does run and a request does go out.
  it('control: would have seen a payload run and a remote request', async () => {
    const control = newAlarms();
    const open = await browser.newContext();
    try {
      const page = await newPage(open, control);
      open.on('request', (request) => {
        if (!isLoopback(request.url())) control.offLoopback.push(request.url());
      });
      const controlUrl = `${kotak.url}/control-page`;
      await page.route(controlUrl, (route) =>
        route.fulfill({ contentType: 'text/html', body: `<p>control</p><iframe sandbox="allow-scripts allow-modals" srcdoc="<script>${JS}</script>"></iframe><script>${JS}</script>` }),
      );
      // Not waiting for `load`: the page's alerts hold it back until each is dismissed, and in one
      // CI run goto gave up after 30 s waiting for it. The detectors below wait for what ran.
      await page.goto(controlUrl, { waitUntil: 'commit' });
      await eventually(() => control.consoleHits.length).toBe(2);
      await eventually(() => control.dialogs.length).toBe(2);
      // The payloads' postMessages reach the top page after their alerts: wait for them too.
      await eventually(async () => (await whatRan(page)).top).toEqual({ xss: 1, messages: 2 });
      expect((await whatRan(page)).frames.length).toBe(2);
      const before = proxy.seen.length;
      await page.goto(`${R1}/control`, { timeout: 60_000 }).catch(() => undefined); // the proxy answers 403
      await eventually(() => proxy.seen.slice(before).filter((line) => !BROWSER_OWN.test(line))).toEqual([`GET ${R1}/control`]);
      expect(control.offLoopback).toEqual([`${R1}/control`]);
    } finally {
      await open.close().catch(() => undefined);
    }
  });
});

/** Hosts of Chromium's own background requests (never named by a payload). */
const BROWSER_OWN = /^(?:CONNECT |[A-Z]+ https?:\/\/)(?:[^/\s:]*\.)?(?:google\.com|googleapis\.com|gstatic\.com|gvt1\.com|googleusercontent\.com)(?::\d+)?(?:\/|$)/;

/** Waits for the load event of every frame under `frame` (iframes a payload may have added). */
async function expectChildFramesLoaded(frame: Frame): Promise<void> {
  for (const child of frame.childFrames()) {
    await child.waitForLoadState('load').catch(() => undefined);
    await expectChildFramesLoaded(child);
  }
}
