/**
 * The one way a message enters Kotak (SMTP now; the send API and sendmail later): parse off-thread,
 * commit, then announce. The announcement comes strictly after the commit, so anything that hears
 * 'message:stored' can read the message back.
 */
import type { Logger } from 'pino';
import type { EventBus } from './events.js';
import { newMessageId } from './mail/id.js';
import { DEFAULT_MAILBOX, type Envelope } from './mail/types.js';
import type { ParserPool } from './parse/pool.js';
import type { MessageStore } from './store/types.js';

export type Deliver = (raw: Buffer, envelope: Envelope) => Promise<string>;

export function createIngest(deps: { parser: ParserPool; store: MessageStore; bus: EventBus; log: Logger; now?: () => number }): Deliver {
  const { parser, store, bus, log } = deps;
  const now = deps.now ?? Date.now;
  return async (raw, envelope) => {
    const receivedAt = now();
    const parsed = await parser.parse(raw);
    if (!parsed.ok) log.warn({ reason: parsed.error, bytes: raw.length }, 'message kept unparsed');
    const summary = await store.insert({ id: newMessageId(receivedAt), mailbox: DEFAULT_MAILBOX, receivedAt, envelope, raw, parsed });
    log.debug({ id: summary.id, from: envelope.mailFrom, rcpts: envelope.rcptTo.length, bytes: raw.length }, 'message stored');
    bus.emit('message:stored', summary);
    return summary.id;
  };
}
