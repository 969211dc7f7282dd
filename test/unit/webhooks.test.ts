/** Webhooks' pure parts: the settings, endpoint URLs with credentials, the backoff, the body and the signature. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { MAIL_EVENT_NAMES } from '../../src/events.js';
import { verifyKotakSignature } from '../../src/webhook-receiver/index.js';
import type { WebhookDelivery } from '../../src/store/webhook-types.js';
import { FIRST_RETRY_MS, MAX_RETRY_MS, nextRetryAt, readRetryAfter } from '../../src/webhooks/backoff.js';
import { readEndpoint, webhookUrlProblem } from '../../src/webhooks/endpoint.js';
import { endpointsForStored } from '../../src/webhooks/index.js';
import { createKotakBody } from '../../src/webhooks/kotak-body.js';
import { signatureHeader } from '../../src/webhooks/signature.js';

describe('webhook settings', () => {
  it('default to no endpoint, message:stored, unsigned, the kotak body, 10 s and 24 h', () => {
    const config = resolveConfig({});
    expect([config.webhook, config.webhookEvents, config.webhookSecret, config.webhookFormat, config.webhookTimeout, config.webhookRetryFor]).toEqual([
      [], ['message:stored'], null, 'kotak', 10_000, 24 * 3600_000,
    ]);
  });

  it('take the secret from KOTAK_WEBHOOK_SECRET', () => {
    expect(resolveConfig({}, { KOTAK_WEBHOOK_SECRET: 's3cret' }).webhookSecret).toBe('s3cret');
  });

  it('refuse a URL that is not http(s), naming it without its password', () => {
    expect(() => resolveConfig({ webhook: 'ftp://u:hunter2@files.test/x' })).toThrow(/--webhook: "ftp:\/\/u@files\.test\/x" is not an http:\/\/ or https:\/\/ URL/);
    expect(() => resolveConfig({ webhook: 'ftp://u:hunter2@files.test/x' })).not.toThrow(/hunter2/);
    expect(() => resolveConfig({ webhook: 'http//u:hunter2@nowhere' })).toThrow(/--webhook: .* is not a URL/);
    expect(() => resolveConfig({ webhook: 'https://u:hunter2@[bad' })).toThrow(/--webhook: "https:\/\/u@\[bad" is not a URL/);
  });

  it('refuse an endpoint given twice (the same URL but for its password)', () => {
    expect(() => resolveConfig({ webhook: ['http://u:one@a.test/x', 'http://u:two@a.test/x'] })).toThrow(/--webhook: "http:\/\/u@a\.test\/x" is given twice/);
    expect(resolveConfig({ webhook: ['http://a.test/x', 'http://a.test/y'] }).webhook).toHaveLength(2);
  });

  it('refuse an unknown event, listing the known ones', () => {
    let message = '';
    try {
      resolveConfig({ webhookEvents: 'message:stored,message:exploded' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^--webhook-events: unknown event "message:exploded"; known: /);
    for (const name of MAIL_EVENT_NAMES) expect(message).toContain(name);
    expect((err(() => resolveConfig({ webhookEvents: 'message:exploded' })) as { code?: string }).code).toBe('invalid_config');
  });

  it('take mailpit bodies only with message:stored alone, saying why', () => {
    expect(resolveConfig({ webhookFormat: 'mailpit' }).webhookFormat).toBe('mailpit');
    expect(() => resolveConfig({ webhookFormat: 'mailpit', webhookEvents: 'message:stored,message:deleted' })).toThrow(
      /--webhook-format: mailpit: Mailpit's webhook body describes a new message, so it needs --webhook-events message:stored alone/,
    );
    expect(() => resolveConfig({ webhookFormat: 'json' })).toThrow(/--webhook-format: "json" is not kotak or mailpit/);
  });

  it('give the endpoints that hear of message:stored: all of them when it is subscribed, else none', () => {
    const urls = ['http://a.test/x', 'https://u:pw@b.test/y'];
    expect(endpointsForStored({ urls, events: ['message:deleted', 'message:stored'] })).toEqual(['http://a.test/x', 'https://u@b.test/y']);
    expect(endpointsForStored({ urls, events: ['message:deleted'] })).toEqual([]);
  });
});

function err(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}

describe('webhook endpoints', () => {
  it('send a URL\'s user and password as HTTP Basic, and name the endpoint without the password', () => {
    const endpoint = readEndpoint('https://hook%40user:p%3Ass@hooks.test:8443/in?x=1');
    expect(endpoint.name).toBe('https://hook%40user@hooks.test:8443/in?x=1');
    expect(endpoint.url.href).toBe('https://hooks.test:8443/in?x=1');
    expect(Buffer.from(endpoint.authorization!.replace(/^Basic /, ''), 'base64').toString()).toBe('hook@user:p:ss');
    expect(readEndpoint('http://127.0.0.1:9/').authorization).toBeNull();
    expect(webhookUrlProblem('http://127.0.0.1:9/')).toBeNull();
  });

  it('show query values in log lines only as …, as they are often tokens', () => {
    const endpoint = readEndpoint('https://u:secret@hooks.test/in?token=abc123&v=2#frag');
    expect(endpoint.logName).toBe('https://u@hooks.test/in?token=…&v=…');
    expect(endpoint.logName).not.toContain('abc123');
    expect(endpoint.logName).not.toContain('secret');
    expect(readEndpoint('http://127.0.0.1:9/hook').logName).toBe('http://127.0.0.1:9/hook');
  });
});

describe('webhook retries', () => {
  const base = { now: 1_000_000, createdAt: 1_000_000, retryForMs: 24 * 3600_000, retryAfterMs: null };

  it('wait from about a second, doubling, within half and the whole of each step, up to an hour', () => {
    for (const random of [0, 0.5, 0.999]) {
      let previousCeiling = 0;
      for (let attempts = 1; attempts <= 20; attempts++) {
        const wait = nextRetryAt({ ...base, attempts, random })! - base.now;
        const ceiling = Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS);
        expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
        expect(wait).toBeLessThanOrEqual(ceiling);
        expect(ceiling).toBeGreaterThanOrEqual(previousCeiling);
        previousCeiling = ceiling;
      }
    }
    expect(nextRetryAt({ ...base, attempts: 1, random: 0 })! - base.now).toBe(500);
    expect(nextRetryAt({ ...base, attempts: 40, random: 0.999 })! - base.now).toBeLessThanOrEqual(MAX_RETRY_MS);
  });

  it('honour Retry-After within the cap', () => {
    expect(nextRetryAt({ ...base, attempts: 1, random: 0, retryAfterMs: 120_000 })! - base.now).toBe(120_000);
    expect(nextRetryAt({ ...base, attempts: 1, random: 0, retryAfterMs: 5 * 3600_000 })! - base.now).toBe(MAX_RETRY_MS);
    expect(readRetryAfter('120', 0)).toBe(120_000);
    expect(readRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT'))).toBe(60_000);
    expect(readRetryAfter('soon', 0)).toBeNull();
    expect(readRetryAfter(undefined, 0)).toBeNull();
  });

  it('try once more at the end of the retry window, then give up', () => {
    const window = { ...base, retryForMs: 10_000, random: 0.999 };
    expect(nextRetryAt({ ...window, attempts: 5, now: base.now + 8000 })).toBe(base.createdAt + 10_000);
    expect(nextRetryAt({ ...window, attempts: 6, now: base.createdAt + 10_000 })).toBeNull();
  });
});

describe('webhook bodies and signatures', () => {
  const delivery: WebhookDelivery = {
    id: '6f1c1f5e-8d3e-4bde-9b53-1f8e0a1e6a11', seq: 7, endpoint: 'http://a.test/', event: 'message:deleted', mailbox: 'w3',
    payload: '{"mailbox":"w3","ids":["a","b"]}', createdAt: '2026-12-07T12:00:00.000Z', status: 'sending', attempts: 2,
    nextAttemptAt: null, lastStatusCode: 500, lastError: 'HTTP 500', finishedAt: null,
  };

  it('Kotak\'s body is {id, type, timestamp, data}, the same bytes every time', async () => {
    const build = createKotakBody();
    const body = await build(delivery);
    expect(JSON.parse(body)).toEqual({ id: delivery.id, type: 'message:deleted', timestamp: '2026-12-07T12:00:00.000Z', data: { mailbox: 'w3', ids: ['a', 'b'] } });
    expect(await build(delivery)).toBe(body);
  });

  it('a signature verifies for its body within the tolerance, and fails for another body, secret, time or a garbled header', () => {
    const body = '{"id":"x"}';
    const t = 1_800_000_000;
    const header = signatureHeader('whsec', t, body);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyKotakSignature('whsec', header, body, 300, t * 1000 + 299_000)).toBe(true);
    expect(verifyKotakSignature('whsec', header, Buffer.from(body), 300, t * 1000)).toBe(true);
    expect(verifyKotakSignature('whsec', header, '{"id":"y"}', 300, t * 1000)).toBe(false);
    expect(verifyKotakSignature('other', header, body, 300, t * 1000)).toBe(false);
    expect(verifyKotakSignature('whsec', header, body, 300, t * 1000 + 301_000)).toBe(false);
    expect(verifyKotakSignature('whsec', header.replace(/v1=../, 'v1=zz'), body, 300, t * 1000)).toBe(false);
    expect(verifyKotakSignature('whsec', `t=${t}`, body, 300, t * 1000)).toBe(false);
    expect(verifyKotakSignature('whsec', undefined, body, 300, t * 1000)).toBe(false);
    // A second v1 (a secret being rotated) is accepted when one of them matches.
    expect(verifyKotakSignature('whsec', `t=${t},v1=${'0'.repeat(64)},${header.split(',')[1]}`, body, 300, t * 1000)).toBe(true);
  });
});
