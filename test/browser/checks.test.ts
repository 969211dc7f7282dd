/**
 * The Checks tab of the message view in Chromium (issue 17): each check runs only when asked, shows
 * its progress, a one-line verdict and details one click away; a check that cannot run (no spamd)
 * says why; a `javascript:` URL of the message is never made a link.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot, watchAlarms } from '../helpers/browser.js';
import { startDnsServer, type DnsTestServer } from '../helpers/dns-server.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';

let site: http.Server;
let sitePort: number;
let dns: DnsTestServer;
let kotak: RunningKotak;
let browser: Browser;
const requested: string[] = [];

beforeAll(async () => {
  site = http.createServer((req, res) => {
    requested.push(`${req.method} ${req.url}`);
    res.writeHead(req.url === '/missing' ? 404 : 200).end();
  });
  site.listen(0, '127.0.0.1');
  await once(site, 'listening');
  sitePort = (site.address() as AddressInfo).port;
  // Every DNS question (DMARC of the From domain) goes to this empty loopback zone.
  dns = await startDnsServer({});
  [kotak, browser] = await Promise.all([withKotak({ linkCheckPrivate: true, dns: dns.address }), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
  await dns?.close();
  site?.close();
});

const card = (page: Page, title: string) => page.getByRole('region', { name: title });

async function openChecks(subject: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(kotak.url);
  await page.getByRole('listitem').filter({ hasText: subject }).getByRole('link').click();
  await page.getByRole('heading', { name: subject }).waitFor();
  await page.getByRole('tab', { name: 'Checks' }).click();
  return page;
}

describe('the Checks tab', () => {
  it('runs each check on request: HTML grid, links with their status, spam unavailable, deliverability rules', async () => {
    const base = `http://127.0.0.1:${sitePort}`;
    await transport(kotak).sendMail({
      from: 'News <news@example.test>',
      to: 'reader@inbox.test',
      subject: 'Checks please',
      html: `<div style="display:flex"><a href="${base}/ok">fine</a> <a href="${base}/missing">gone</a> <a href="javascript:alert(1)">trap</a></div>`,
    });
    const page = await openChecks('Checks please');
    const alarms = watchAlarms(page);
    // Nothing runs until asked.
    expect(requested).toEqual([]);
    await expect(card(page, 'Links').getByRole('button', { name: 'Run' }).isVisible()).resolves.toBe(true);

    const html = card(page, 'HTML compatibility');
    await html.getByRole('button', { name: 'Run' }).click();
    await html.getByRole('status').filter({ hasText: /Supported \d+% · partial \d+% · not supported \d+%/ }).waitFor();
    await html.getByText('Details').click();
    const flexRow = html.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /display:flex/ }) });
    await flexRow.waitFor();
    expect(await html.getByRole('columnheader', { name: 'Outlook' }).count()).toBe(1);

    const links = card(page, 'Links');
    await links.getByRole('button', { name: 'Run' }).click();
    await links.getByRole('status').filter({ hasText: '1 of 3 links have a problem' }).waitFor();
    expect(requested.sort()).toEqual(['HEAD /missing', 'HEAD /ok']);
    await links.getByText('Details').click();
    await links.getByRole('link', { name: `${base}/missing` }).waitFor();
    // The message's javascript: URL is listed as text, never as a link.
    await links.getByText('javascript:alert(1)').waitFor();
    expect(await links.getByRole('link', { name: 'javascript:alert(1)' }).count()).toBe(0);

    const spam = card(page, 'Spam score');
    await spam.getByRole('button', { name: 'Run' }).click();
    await spam.getByRole('alert').filter({ hasText: '--spamassassin' }).waitFor();

    const deliverability = card(page, 'Deliverability');
    await deliverability.getByRole('button', { name: 'Run' }).click();
    await deliverability.getByRole('status').filter({ hasText: /sender rules/ }).waitFor();
    await deliverability.getByText('Details').click();
    await deliverability.getByRole('heading', { name: 'DKIM signatures' }).waitFor();
    expect(await deliverability.getByRole('listitem').count()).toBeGreaterThan(3);

    await screenshot(page, 'message-checks');
    expect(alarms.errors.filter((e) => !/409/.test(e))).toEqual([]);
    await page.close();
  });
});
