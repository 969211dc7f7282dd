/**
 * One-time codes through the API (GET /api/messages/:id `codes`), for the shapes codes arrive in:
 * an HTML-only message, and a text part that only says "see the HTML" beside an HTML part with the
 * code. Sent over real SMTP with nodemailer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { queuedId } from '../helpers/smtp-client.js';

describe('one-time codes in the message view', () => {
  let kotak: RunningKotak;
  beforeAll(async () => {
    kotak = await withKotak();
  });
  afterAll(async () => {
    await kotak.stop();
  });

  async function codesOf(mail: { subject: string; text?: string; html?: string }): Promise<string[]> {
    const info = await transport(kotak).sendMail({ from: 'app@example.com', to: 'user@example.com', ...mail });
    const { status, body } = await getJson(kotak, `/api/messages/${queuedId(info.response)}`);
    expect(status).toBe(200);
    return body.codes;
  }

  it('finds the code of an HTML-only message', async () => {
    expect(await codesOf({ subject: 'Sign in', html: '<p>Your login code:</p><p style="font-size:32px"><b>551&nbsp;203</b></p>' })).toEqual(['551203']);
  });

  it('finds the code in the HTML when the text part has none', async () => {
    const codes = await codesOf({
      subject: 'Confirm your address',
      text: 'Your mail program shows only the plain version of this message. Open the HTML version to continue.',
      html: '<p>Enter this verification code in the app:</p><h1>482913</h1>',
    });
    expect(codes).toEqual(['482913']);
  });

  it('keeps to the text part when it has a code', async () => {
    const codes = await codesOf({ subject: 'Your code', text: 'Your verification code is 730155.', html: '<p>Your verification code is <b>730155</b>.</p><p>Reference code: 99881122</p>' });
    expect(codes).toEqual(['730155']);
  });
});
