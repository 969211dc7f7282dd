/**
 * Relay in the inbox, in Chromium: the Release button queues a message for real delivery, a
 * recipient outside the allowlist is refused with the server's reason, and the Deliveries panel
 * follows the job live to "delivered" (a loopback DNS server and receiving SMTP server play the MX).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { startDnsServer, type DnsTestServer } from '../helpers/dns-server.js';
import { transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';
import { startReceiver, type SmtpReceiver } from '../helpers/smtp-receiver.js';

let kotak: RunningKotak;
let browser: Browser;
let dns: DnsTestServer;
let receiver: SmtpReceiver;

beforeAll(async () => {
  receiver = await startReceiver('127.0.0.7', 0);
  dns = await startDnsServer({ 'ui-relay.test': { A: ['127.0.0.7'] } });
  [kotak, browser] = await Promise.all([
    withKotak({ relayAllow: '*@ui-relay.test', relayDns: dns.address, relayMxPort: receiver.port }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await kotak?.stop();
  await Promise.all([receiver?.close(), dns?.close()]);
});

describe('relay in the inbox', () => {
  it('releases a message from the message view and shows its delivery live', async () => {
    const info = await transport(kotak).sendMail({ from: 'app@kotak.test', to: 'qa@ui-relay.test', subject: 'Release me', text: 'for real' });
    const id = queuedId(info.response);
    const page = await browser.newPage();
    await page.goto(`${kotak.url}/messages/${id}`);
    // Relay is on: the message has a Deliveries tab.
    await page.getByRole('tab', { name: 'Deliveries' }).click();
    const panel = page.getByRole('region', { name: 'Deliveries' });
    await panel.getByText('Not relayed.').waitFor();

    await panel.getByRole('button', { name: 'Release…' }).click();
    const form = page.getByRole('form', { name: 'Release this message' });
    const to = form.getByRole('textbox');
    expect(await to.inputValue()).toBe('qa@ui-relay.test');
    await to.fill('qa@ui-relay.test, stranger@example.com');
    await form.getByRole('button', { name: 'Release', exact: true }).click();
    await form.getByRole('alert').filter({ hasText: 'stranger@example.com' }).waitFor();
    expect(receiver.messages).toHaveLength(0);

    await to.fill('qa@ui-relay.test');
    await form.getByRole('button', { name: 'Release', exact: true }).click();
    const row = panel.getByRole('row').filter({ hasText: 'qa@ui-relay.test' });
    await row.filter({ hasText: 'delivered' }).waitFor();
    expect(await row.textContent()).toContain('ui-relay.test');
    expect((await receiver.nextMessage(0)).to).toEqual(['qa@ui-relay.test']);
    await page.close();
  });
});
