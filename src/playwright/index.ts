/**
 * kotak/playwright: Playwright's `test` with a Kotak for each worker and a mailbox of its own for
 * each worker (or each test).
 *
 *   import { test, expect } from 'kotak/playwright';
 *
 *   test('sign-up sends a confirmation link', async ({ page, mailbox }) => {
 *     await page.getByLabel('Email').fill(mailbox.addressFor('alice'));   // alice@w3.kotak.test
 *     await page.getByRole('button', { name: 'Sign up' }).click();
 *     const message = await mailbox.waitFor({ subject: 'Confirm' });
 *     await page.goto(message.links[0]!.url);
 *   });
 *
 * Isolation is by Kotak mailbox: any address `…@NAME.kotak.test` lands in mailbox NAME by the rule
 * --mailbox-route '*@{mailbox}.kotak.test' (MAILBOX_ROUTE). NAME is `w<worker index>`, or with
 * `test.use({ kotakIsolation: 'test' })` one per test; the fixture's waits, lists and clears see
 * only that mailbox, which is emptied before and after each test.
 *
 * With KOTAK_URL set, every worker talks to that Kotak, which must have been started with that
 * rule; otherwise each worker starts its own in process (free ports, in-memory database, the rule
 * set) and the `kotak` fixture says where its SMTP port is. A KOTAK_URL server started with
 * --http-token is reached with KOTAK_HTTP_TOKEN (the same variable the server reads; the first
 * token of a list).
 *
 * `test` extends the @playwright/test the running Playwright loaded (the application's, a peer
 * dependency), never a copy of Kotak's own: see runner-copy.ts.
 */
import { randomBytes } from 'node:crypto';
import type { TestInfo } from '@playwright/test';
import { KotakClient } from '../client/index.js';
import { MAILBOX_DOMAIN, MAILBOX_ROUTE, mailboxNameFor, type KotakIsolation } from './isolation.js';
import { runnersPlaywrightTest } from './runner-copy.js';
import { createChaosFixture, type ChaosFixture } from './chaos.js';
import type { Message, MessageSummary, WaitCriteria, WaitForManyCriteria } from '../client/index.js';

export interface KotakWorkerFixture {
  /** The HTTP API and web inbox, e.g. http://127.0.0.1:40123 */
  readonly url: string;
  /** Where the app under test sends mail. */
  readonly smtpHost: string;
  readonly smtpPort: number;
  readonly client: KotakClient;
  /** True when this worker started its own Kotak; false when it uses KOTAK_URL's. */
  readonly embedded: boolean;
}

/** Mail to one address (createMailbox), or the fixture's whole mailbox (IsolatedMailbox). */
export interface Mailbox {
  /** An address no other test uses, e.g. t-3f9a1c0b7e2d@w3.kotak.test */
  readonly address: string;
  /** The search terms that select this mailbox's messages. */
  readonly query: string;
  /** The oldest message in this mailbox matching the criteria, stored or still to come. */
  waitFor(criteria?: WaitCriteria): Promise<Message>;
  /** The oldest `count` messages in this mailbox matching the criteria. */
  waitForMany(criteria: WaitForManyCriteria): Promise<Message[]>;
  /** Every message in this mailbox so far, newest first (summaries; `kotak.client.get(id)` for the rest). */
  messages(): Promise<MessageSummary[]>;
}

/** The `mailbox` fixture: a Kotak mailbox of its own, reached at any local part. */
export interface IsolatedMailbox extends Mailbox {
  /** The Kotak mailbox this test's mail lands in, e.g. `w3` (worker isolation) or `t-…` (test isolation). */
  readonly name: string;
  /** Any local part at this mailbox: `addressFor('alice')` is alice@w3.kotak.test. */
  addressFor(localPart: string): string;
}

/** Kotak's own default SMTP port, for a KOTAK_URL server when KOTAK_SMTP_PORT does not say otherwise. */
const DEFAULT_SMTP_PORT = 1025;
/** A wait's default: shorter than the test's own timeout, so the wait's error (which lists what did arrive) is the one reported. */
const DEFAULT_WAIT_MS = 30_000;

const { test: base, expect } = runnersPlaywrightTest();

export const test = base.extend<{ mailbox: IsolatedMailbox; kotakIsolation: KotakIsolation; chaos: ChaosFixture }, { kotak: KotakWorkerFixture }>({
  kotakIsolation: ['worker', { option: true }],

  kotak: [
    // Playwright reads the fixtures a fixture needs from its first parameter: it must be a destructuring pattern.
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      const external = process.env.KOTAK_URL;
      if (external) {
        const smtpPort = Number(process.env.KOTAK_SMTP_PORT ?? DEFAULT_SMTP_PORT);
        if (!Number.isInteger(smtpPort) || smtpPort < 1 || smtpPort > 65535) throw new Error(`KOTAK_SMTP_PORT "${process.env.KOTAK_SMTP_PORT}" is not a port number`);
        // An IPv6 host is bracketed in a URL, not in an SMTP client's host option.
        const smtpHost = new URL(external).hostname.replace(/^\[|\]$/g, '');
        const token = process.env.KOTAK_HTTP_TOKEN?.split(',')[0]?.trim() || undefined;
        await use({ url: external, smtpHost, smtpPort, client: new KotakClient(external, { token }), embedded: false });
        return;
      }
      // Loaded only here, so suites that use KOTAK_URL never load the server (and its native SQLite driver).
      const { startKotak } = await import('../index.js');
      const kotak = await startKotak({ mailboxRoute: MAILBOX_ROUTE });
      try {
        await use({ url: kotak.url, smtpHost: '127.0.0.1', smtpPort: kotak.smtpPort, client: new KotakClient(kotak.url), embedded: true });
      } finally {
        await kotak.stop();
      }
    },
    { scope: 'worker' },
  ],

  mailbox: async ({ kotak, kotakIsolation }, use, testInfo) => {
    const name = mailboxNameFor(kotakIsolation, testInfo);
    const scoped = kotak.client.mailbox(name);
    // Before as well as after: a run that was killed mid-test leaves mail in a shared Kotak's `w0`…
    await scoped.clear();
    const mailbox = createMailboxOf(scoped, name, defaultWaitTimeout(testInfo));
    await use(mailbox);
    if (testInfo.status !== testInfo.expectedStatus) await attachMailbox(mailbox, testInfo);
    await scoped.clear();
  },

  // chaos: the rules this test adds, removed after it (README "Chaos").
  chaos: async ({ kotak, mailbox }, use) => {
    const chaos = createChaosFixture(kotak.client, mailbox.name);
    try {
      await use(chaos);
    } finally {
      await chaos.removeAll();
    }
  },
});

export { expect };
export { MAILBOX_DOMAIN, MAILBOX_ROUTE, mailboxNameFor, type KotakIsolation } from './isolation.js';
export type { ChaosFixture } from './chaos.js';
export type { ChaosRule, ChaosRuleHandle, ChaosRuleSpec } from '../client/index.js';
export type { Message, MessageSummary, WaitCriteria, WaitForManyCriteria } from '../client/index.js';
export { KotakApiError, KotakClient, KotakError, KotakTimeoutError } from '../client/index.js';

/**
 * A mailbox at any address, e.g. on a Kotak without MAILBOX_ROUTE (`t-bob-…@kotak.test`). Unlike the
 * fixture's, its messages are not deleted after the test: `client.clear(mailbox.query)` does that.
 */
export function createMailbox(client: KotakClient, address: string, timeout = DEFAULT_WAIT_MS): Mailbox {
  const query = `to:"${address}"`;
  // As `to` when the caller gave none, so that a timeout names the address plainly; else as a search term.
  const scoped = <T extends WaitCriteria>(criteria: T): T =>
    criteria.to === undefined
      ? { timeout, ...criteria, to: address }
      : { timeout, ...criteria, query: criteria.query ? `${query} ${criteria.query}` : query };
  return {
    address,
    query,
    waitFor: (criteria = {}) => client.waitFor(scoped(criteria)),
    waitForMany: (criteria) => client.waitForMany(scoped(criteria)),
    messages: () => allMessages(client, query),
  };
}

/** The fixture's mailbox: everything `client` (scoped to mailbox `name`) sees. */
function createMailboxOf(client: KotakClient, name: string, timeout: number): IsolatedMailbox {
  const addressFor = (localPart: string) => `${localPart}@${name}.${MAILBOX_DOMAIN}`;
  const withTimeout = <T extends WaitCriteria>(criteria: T): T => ({ timeout, ...criteria });
  return {
    name,
    address: addressFor(`t-${randomBytes(6).toString('hex')}`),
    addressFor,
    query: `mailbox:${name}`,
    waitFor: (criteria = {}) => client.waitFor(withTimeout(criteria)),
    waitForMany: (criteria) => client.waitForMany(withTimeout(criteria)),
    messages: () => allMessages(client),
  };
}

async function allMessages(client: KotakClient, query?: string): Promise<MessageSummary[]> {
  const all: MessageSummary[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.list({ ...(query ? { query } : {}), limit: 1000, ...(cursor ? { cursor } : {}) });
    all.push(...page.messages);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

function defaultWaitTimeout(testInfo: TestInfo): number {
  // timeout 0 means the test has no time limit.
  return testInfo.timeout > 0 ? Math.min(DEFAULT_WAIT_MS, Math.floor(testInfo.timeout / 2)) : DEFAULT_WAIT_MS;
}

/** A failed test's report shows what its mailbox received, before the cleanup deletes it. */
async function attachMailbox(mailbox: Mailbox, testInfo: TestInfo): Promise<void> {
  const messages = await mailbox.messages().catch(() => null);
  if (!messages) return;
  const lines = messages.map((m) => `${m.receivedAt}  ${m.id}  from ${m.from?.address ?? '(none)'}: ${JSON.stringify(m.subject)}`);
  await testInfo.attach(`mailbox ${mailbox.address}`, {
    body: lines.length > 0 ? lines.join('\n') : '(no messages)',
    contentType: 'text/plain',
  });
}
