/**
 * Which Kotak mailbox a Playwright test's mail goes to, without Playwright: the domain, the
 * --mailbox-route rule that maps `…@NAME.kotak.test` to mailbox NAME, and the name of a worker's
 * or a test's mailbox. Kept apart from index.ts so that a server's setup code can name the rule
 * without loading @playwright/test.
 */

/** `.test` is reserved (RFC 2606): no real mail can go there by mistake. */
export const MAILBOX_DOMAIN = 'kotak.test';
/** Mail to `…@NAME.kotak.test` lands in mailbox NAME: an embedded Kotak sets this rule; a KOTAK_URL server needs `--mailbox-route` with it. */
export const MAILBOX_ROUTE = `*@{mailbox}.${MAILBOX_DOMAIN}`;

/** `worker`: one mailbox per worker, emptied between its tests (which run one at a time). `test`: one per test. */
export type KotakIsolation = 'worker' | 'test';

/**
 * `w<worker index>`, or for test isolation `t-<test id>` (Playwright's id, distinct for each test
 * and each --repeat-each copy, at most 43 characters: a valid mailbox name and DNS label; retries
 * of a test run one after another and share it).
 */
export function mailboxNameFor(isolation: KotakIsolation, test: { readonly workerIndex: number; readonly testId: string }): string {
  return isolation === 'test' ? `t-${test.testId.toLowerCase()}` : `w${test.workerIndex}`;
}
