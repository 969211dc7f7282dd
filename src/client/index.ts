/**
 * kotak/client: a typed client for Kotak's HTTP API, with waits the server holds open.
 *
 *   import { KotakClient } from 'kotak/client';
 *   const kotak = new KotakClient('http://localhost:8025');
 *   const message = await kotak.waitFor({ to: 'alice@example.com', subject: 'Confirm' });
 *   await page.goto(message.links[0].url);
 *
 * No runtime dependencies beyond `fetch`; nothing of the server is bundled (types only).
 */
export { KotakClient, type KotakClientOptions, type ListOptions } from './client.js';
export type { TextMatcher, WaitCriteria, WaitForManyCriteria } from './criteria.js';
export { KotakApiError, KotakError, KotakTimeoutError, type TimeoutDetails } from './errors.js';
export type { Message, MessageChecks } from './message.js';
export type {
  Address, AttachmentInfo, DeliverabilityReport, Envelope, Header, MessageDetail, MessageLink, MessagePage, MessageSummary, RawOptions, Stats,
  HtmlCheck, SpamCheck, SpamRule,
} from './types.js';
// checks: links
export type { LinkCheck, LinkCheckResult } from './types.js';
// chaos
export type { ChaosClient, ChaosRuleHandle, ChaosRuleSpec } from './chaos.js';
export type { ChaosRefusal, ChaosRefusalList, ChaosRule, ChaosRuleBody } from './types.js';
