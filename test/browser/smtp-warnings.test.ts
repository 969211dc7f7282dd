/**
 * SMTP warnings in the message view (issue 18: they were only in the API): a message whose DATA
 * held bare LF or bare CR line endings says so in a banner; a well-formed one shows none.
 */
import { describe, expect, it } from 'vitest';
import { kotakInChromium } from '../helpers/kotak-in-chromium.js';
import { RawSmtp } from '../helpers/raw-smtp.js';
import { queuedId } from '../helpers/smtp-client.js';

const env = kotakInChromium();

async function send(raw: string): Promise<string> {
  const client = await RawSmtp.connect(env.kotak.smtpPort);
  await client.hello();
  try {
    return queuedId(await client.transaction(`${raw}.\r\n`));
  } finally {
    client.destroy();
  }
}

describe('SMTP warnings in the message view', () => {
  it('shows a banner naming bare LF and bare CR, and none for CRLF mail', async () => {
    const bare = await send('Subject: sloppy client\r\n\r\nline one\nline two\rthree\r\n');
    const clean = await send('Subject: tidy client\r\n\r\nline one\r\n');
    const page = await env.browser.newPage();
    await page.goto(`${env.kotak.url}/messages/${bare}`);
    await page.getByRole('heading', { name: 'sloppy client' }).waitFor();
    await page.getByRole('note').filter({ hasText: 'This message arrived with bare LF and bare CR line endings' }).waitFor();
    await page.goto(`${env.kotak.url}/messages/${clean}`);
    await page.getByRole('heading', { name: 'tidy client' }).waitFor();
    expect(await page.getByRole('note').filter({ hasText: 'line endings' }).count()).toBe(0);
    await page.close();
  });
});
