/**
 * DNS rebinding in a real Chromium (issue 15): a page on http://evil.test:PORT/, whose name the
 * browser resolves to 127.0.0.1 (`--host-resolver-rules`, the rebinding resolver), is the same
 * origin as Kotak to the browser. Chromium sends no `Sec-Fetch-*` or `Origin` with its same-origin
 * GETs to a plain-HTTP origin, so the guard cannot ask "is this a browser?": every request under a
 * name Kotak does not know is refused, and the 403 names the flag that allows it.
 *
 * The refusals carry Kotak's JSON reason, so they are Kotak's and not the browser's; the second
 * test shows the same requests going through once the name is allowed.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';
import { simpleMessage } from '../helpers/seed.js';

const REBOUND = 'evil.test';

let browser: Browser;
/** Default settings: HTTP authentication off, no allowed host names. */
let open: RunningKotak;
/** --http-allowed-hosts evil.test */
let allowing: RunningKotak;

beforeAll(async () => {
  [browser, open, allowing] = await Promise.all([
    // Chromium's own Local Network Access check would stop the attacker's page here (a page not
    // from loopback reaching loopback); other browsers do not all have one, and the point is
    // what Kotak itself answers. So it is switched off.
    launchChromium([
      `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`,
      '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights',
    ]),
    withKotak(),
    withKotak({ httpAllowedHosts: REBOUND }),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([open?.stop(), allowing?.stop()]);
});

/**
 * What Kotak gives the rebinding page: its navigation to `/`, and what the attacker's script gets
 * with same-origin requests. That script's page is the one the attacker served before re-pointing
 * the name (Playwright answers for it, as the attacker's server did); everything after reaches
 * Kotak through the rebinding resolver.
 */
async function fromReboundPage(kotak: RunningKotak, id: string) {
  const origin = `http://${REBOUND}:${new URL(kotak.url).port}`;
  const page = await browser.newPage();
  try {
    const navigation = await page.goto(`${origin}/`);
    const inbox = { status: navigation?.status() ?? 0, text: (await navigation?.text()) ?? '' };
    await page.route(`${origin}/attacker.html`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>attacker</title>' }));
    await page.goto(`${origin}/attacker.html`);
    const scripted = await page.evaluate(
      async ({ messageId, liveUrl }) => {
        const read = async (path: string) => {
          const res = await fetch(path);
          return { status: res.status, text: await res.text() };
        };
        const live = await new Promise<string>((resolve) => {
          const ws = new WebSocket(liveUrl);
          ws.onopen = () => {
            ws.close();
            resolve('open');
          };
          ws.onerror = () => resolve('refused');
        });
        return { list: await read('/api/messages'), raw: await read(`/api/messages/${messageId}/raw`), mailhog: await read('/api/v2/messages'), live };
      },
      { messageId: id, liveUrl: `${origin.replace(/^http/, 'ws')}/api/live` },
    );
    return { inbox, ...scripted };
  } finally {
    await page.close();
  }
}

describe('a page whose name is rebound to 127.0.0.1', () => {
  it('gets 403 for the inbox, the API, the raw message and the live WebSocket, with the flag to use', async () => {
    const id = queuedId(await sendRaw(open.smtpPort, simpleMessage('Secret reset link')));
    const seen = await fromReboundPage(open, id);
    for (const answer of [seen.inbox, seen.list, seen.raw, seen.mailhog]) {
      expect(answer.status).toBe(403);
      expect(answer.text).not.toContain('Secret');
      const { error } = JSON.parse(answer.text) as { error: { code: string; message: string } };
      expect(error.code).toBe('host_not_allowed');
      expect(error.message).toContain(`--http-allowed-hosts ${REBOUND}`);
    }
    expect(seen.live).toBe('refused');
  });

  it('is served everything once its name is listed in --http-allowed-hosts', async () => {
    const id = queuedId(await sendRaw(allowing.smtpPort, simpleMessage('Listed host')));
    const seen = await fromReboundPage(allowing, id);
    expect(seen.inbox.status).toBe(200);
    expect(seen.list.status).toBe(200);
    expect(JSON.parse(seen.list.text).messages.map((m: { id: string }) => m.id)).toContain(id);
    expect(seen.raw.status).toBe(200);
    expect(seen.raw.text).toContain('Subject: Listed host');
    expect(seen.mailhog.status).toBe(200);
    expect(seen.live).toBe('open');
  });
});
