/**
 * Relay to a real MTA: Debian's Postfix, a private instance started by the test (see
 * test/helpers/postfix.ts) on 127.0.0.1:<free port>, is the MX of postfix.kotak.test in a
 * loopback DNS server. Kotak relays over real SMTP with STARTTLS; the test reads what Postfix
 * wrote to its Maildir and compares it with the stored message, and checks that Postfix's own
 * replies (250 ... queued as, 550 5.1.1) are what Kotak records.
 *
 * Needs root and the `postfix` package (.ci/run installs it); without them the test fails.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type DnsTestServer } from '../helpers/dns-server.js';
import { getJson, LiveClient, transport, withKotak, type RunningKotak } from '../helpers/kotak.js';
import { startPostfix, type PrivatePostfix } from '../helpers/postfix.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const DOMAIN = 'postfix.kotak.test';
const MX = `mx.${DOMAIN}`;
const MAILBOX = 'someone';
const RECIPIENT = `${MAILBOX}@${DOMAIN}`;
const SENDER = 'app@kotak.test';
const CORPUS = new URL('../fixtures/corpus/', import.meta.url);
/** How long Postfix may take to start, and a relay to settle and land in the Maildir. */
const DEADLINE_MS = 60_000;
/** The headers Postfix's virtual delivery agent and smtpd put in front of a message, in order. */
const PREPENDED = ['Return-Path', 'X-Original-To', 'Delivered-To', 'Received'];

let postfix: PrivatePostfix;
let dns: DnsTestServer;
let kotak: RunningKotak;
let live: LiveClient;
/**
 * Why the setup failed (e.g. no Postfix), rethrown by every test: each test then FAILS with it,
 * where a throwing beforeAll would leave the tests reported as skipped.
 */
let setupError: unknown;

function ready(): void {
  if (setupError) throw setupError;
}

beforeAll(async () => {
  try {
    postfix = await startPostfix({ domain: DOMAIN, mailboxes: [MAILBOX], hostname: MX, startTimeoutMs: DEADLINE_MS });
    dns = await startDnsServer({ [DOMAIN]: { MX: [{ preference: 10, exchange: MX }] }, [MX]: { A: ['127.0.0.1'] } });
    kotak = await withKotak({
      relayAllow: `*@${DOMAIN}`,
      relayDns: dns.address,
      relayMxPort: postfix.port,
      relayRetry: '1s',
      hostname: 'kotak.test',
    });
    live = await LiveClient.connect(kotak);
  } catch (err) {
    setupError = err;
  }
}, 2 * DEADLINE_MS);

afterAll(async () => {
  live?.close();
  // Postfix is stopped whatever else fails.
  const results = await Promise.allSettled([kotak?.stop(), dns?.close()]);
  await postfix?.stop();
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}, DEADLINE_MS);

interface Delivery {
  recipient: string;
  status: string;
  attempts: number;
  mxHost: string | null;
  reply: string | null;
  reason: string | null;
  tls: string | null;
  history: { outcome: string; reply: string | null; transcript: string[] }[];
}

async function release(id: string): Promise<void> {
  const res = await getJson(kotak, `/api/messages/${id}/release`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
}

/**
 * Every job of the message delivered or failed, each with its attempts in its history. Re-read on
 * each relay:updated frame of the message (sent after the job and its attempt are written, and
 * GET /deliveries reads both in one statement); past the deadline, fails with Postfix's log.
 */
async function settled(id: string): Promise<Delivery[]> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    // Counted before reading, so a frame that arrives during the read is not missed.
    const seen = live.frames.length;
    const { body } = await getJson<{ deliveries: Delivery[] }>(kotak, `/api/messages/${id}/deliveries`);
    const done = (d: Delivery): boolean => (d.status === 'delivered' || d.status === 'failed') && d.history.length === d.attempts;
    if (body.deliveries.length > 0 && body.deliveries.every(done)) return body.deliveries;
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`the relay of ${id} did not settle within ${DEADLINE_MS} ms: ${JSON.stringify(body.deliveries, null, 2)}\n${postfix.log()}`);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      live.next('relay:updated', (f) => f.data.messageId === id && live.frames.indexOf(f) >= seen),
      new Promise((resolve) => (timer = setTimeout(resolve, remaining))),
    ]);
    clearTimeout(timer);
  }
}

async function storedRaw(id: string): Promise<Buffer> {
  return Buffer.from(await (await fetch(`${kotak.url}/api/messages/${id}/raw`)).arrayBuffer());
}

/** Line breaks as on the SMTP wire: Kotak's relay turns bare LF and bare CR into CRLF. */
function crlf(text: string): string {
  return text.replace(/\r\n|\r|\n/g, '\r\n');
}

/** Splits the header fields Postfix put in front from the rest (the message as it arrived). */
function splitPrepended(file: Buffer): { fields: { name: string; value: string }[]; rest: string } {
  let text = file.toString('latin1');
  const fields: { name: string; value: string }[] = [];
  for (let i = 0; i < PREPENDED.length; i++) {
    const match = /^([A-Za-z-]+):((?:[^\n]*\n)(?:[ \t][^\n]*\n)*)/.exec(text);
    if (!match) break;
    fields.push({ name: match[1]!, value: match[2]!.replace(/\r?\n[ \t]*/g, ' ').trim() });
    text = text.slice(match[0].length);
  }
  return { fields, rest: text };
}

/**
 * The job delivered once to Postfix's MX over STARTTLS, Postfix's own 250 recorded, and the
 * Maildir file: Postfix's four header fields, then exactly the stored message.
 */
async function expectDeliveredIntact(id: string, job: Delivery | undefined): Promise<void> {
  expect(job, 'a delivery job').toBeDefined();
  expect(job).toMatchObject({ recipient: RECIPIENT, status: 'delivered', mxHost: MX, attempts: 1, reason: null });
  const queued = /^250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)$/.exec(job!.reply ?? '');
  expect(queued, `Postfix's reply, got ${job!.reply}`).not.toBeNull();
  const queueId = queued![1]!;
  expect(job!.tls).toMatch(/^TLSv1\.[23] \S+$/);
  const [protocol, cipher] = job!.tls!.split(' ');
  expect(job!.history.map((h) => h.outcome)).toEqual(['delivered']);

  const file = await postfix.waitForMessage(MAILBOX, queueId, DEADLINE_MS);
  const { fields, rest } = splitPrepended(file);
  expect(fields.map((f) => f.name)).toEqual(PREPENDED);
  const field = (name: string): string => fields.find((f) => f.name === name)!.value;
  expect(field('Return-Path')).toBe(`<${SENDER}>`);
  expect(field('X-Original-To')).toBe(RECIPIENT);
  expect(field('Delivered-To')).toBe(RECIPIENT);
  // Postfix's view of the session: Kotak's EHLO name, TLS with the protocol and cipher Kotak recorded.
  const received = field('Received');
  expect(received).toMatch(/^from kotak\.test \(unknown \[127\.0\.0\.1\]\) /);
  expect(received).toContain(`(using ${protocol} with cipher ${cipher} `);
  expect(received).toContain(`by ${MX} (Postfix) with ESMTPS id ${queueId} for <${RECIPIENT}>;`);

  // Postfix writes Maildir files with LF line breaks; on the wire they were CRLF.
  expect(crlf(rest)).toBe(crlf((await storedRaw(id)).toString('latin1')));
}

describe(`relay to a real Postfix (${DOMAIN})`, () => {
  it.each([
    // An attachment whose name is raw UTF-8 in the header: an 8-bit message.
    'rubymail--attachment_nonascii_filename.eml',
    // A 41 KB Gmail message with a base64 attachment, and Received/Return-Path of its own.
    'mailpit--mime-attachment.eml',
  ])('delivers %s over STARTTLS, byte for byte', async (file) => {
    ready();
    const raw = readFileSync(new URL(file, CORPUS));
    expect(raw.toString('latin1')).toMatch(/Content-Disposition: attachment/i);
    const reply = await sendRaw(kotak.smtpPort, raw, { from: SENDER, to: [RECIPIENT] });
    expect(reply.code, reply.text).toBe(250);
    const id = queuedId(reply);
    await release(id);
    const [job, ...others] = await settled(id);
    expect(others).toEqual([]);
    await expectDeliveredIntact(id, job);
  }, 3 * DEADLINE_MS);

  it("fails an address Postfix does not know with Postfix's 550 kept, and delivers to the one it knows", async () => {
    ready();
    const unknown = `nobody-here@${DOMAIN}`;
    const info = await transport(kotak).sendMail({
      from: SENDER,
      to: [RECIPIENT, unknown],
      subject: 'Grüße über Postfix',
      text: 'Hallo, schöne Grüße.\nbare-LF line endings become CRLF\n.a line starting with a dot\n',
    });
    const id = queuedId(info.response);
    await release(id);
    const jobs = await settled(id);
    expect(jobs.map((j) => j.recipient).sort()).toEqual([unknown, RECIPIENT].sort());
    const failed = jobs.find((j) => j.recipient === unknown)!;
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, mxHost: MX });
    expect(failed.reply).toBe(`550 5.1.1 <${unknown}>: Recipient address rejected: User unknown in virtual mailbox table`);
    expect(failed.history.map((h) => h.outcome)).toEqual(['failed']);
    await expectDeliveredIntact(id, jobs.find((j) => j.recipient === RECIPIENT));
  }, 3 * DEADLINE_MS);
});
