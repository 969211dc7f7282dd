/**
 * Relay mode from configuration: the allowlist, the DNS resolver, the SMTP transport and the
 * queue, or null when relay is off (no --relay-allow and no --relay-allow-everyone).
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBus } from '../events.js';
import type { RelayStore } from '../store/relay-types.js';
import type { MessageStore } from '../store/types.js';
import { compileAllowlist } from './allowlist.js';
import { resolveDestination, resolveHostAddresses, type MxResolver } from './mx.js';
import { createRelayQueue, type HostOutcome, type RelayQueue, type RelayQueueSettings } from './queue.js';
import { assertDkimKey } from './smtp-message.js';
import { deliverToHost, RFC5321_TIMEOUTS, type DeliveryOptions, type HostAttempt } from './smtp-delivery.js';

export interface Relay {
  readonly queue: RelayQueue;
  readonly store: RelayStore;
  /** What GET /api/relay shows: never credentials. */
  readonly status: { readonly auto: boolean; readonly allow: readonly string[]; readonly smarthost: string | null; readonly requireTls: boolean };
}

export async function createRelay(
  config: Config,
  deps: {
    store: RelayStore;
    messages: MessageStore;
    bus: EventBus;
    log: Logger;
    /** The process's DNS resolver (src/dns.ts, the servers of --dns), shared with the message checks. */
    resolver: MxResolver;
    relaysFromCopy?: RelayQueueSettings['relaysFromCopy'];
    /** Many nodes on one database: another node's news that jobs may be due (relay/queue.ts). */
    wakeOn?: (wake: () => void) => () => void;
  },
): Promise<Relay | null> {
  if (config.relayAllow.length === 0 && !config.relayAllowEveryone) return null;
  const isAllowed = config.relayAllowEveryone ? () => true : compileAllowlist(config.relayAllow);
  if (config.relayAllowEveryone) deps.log.warn('relay may deliver to ANY recipient (--relay-allow-everyone): real people can receive what your app sends');

  const dkim = config.relayDkimKey
    ? { domainName: config.relayDkimDomain!, keySelector: config.relayDkimSelector!, privateKey: await readFile(config.relayDkimKey, 'utf8') }
    : null;
  // A key that cannot sign stops the start (exit 2), not every delivery later.
  if (dkim) assertDkimKey(dkim.privateKey);
  const smarthost = config.relaySmarthost;
  const deliveryOptions: DeliveryOptions = {
    heloName: config.hostname,
    // --relay-smarthost-tls off: STARTTLS is still used when offered, but not required, and AUTH may go in plaintext.
    tls: smarthost
      ? config.relaySmarthostTls === 'implicit' ? 'implicit' : config.relaySmarthostTls === 'off' ? 'opportunistic' : 'required'
      : config.relayRequireTls ? 'required' : 'opportunistic',
    // A smarthost is one server we chose and should prove who it is; MX hosts often cannot.
    rejectUnauthorized: smarthost !== null && config.relaySmarthostTls !== 'off',
    ...(config.relaySmarthostUser
      ? { auth: { user: config.relaySmarthostUser, pass: config.relaySmarthostPassword ?? '', allowPlaintext: config.relaySmarthostTls === 'off' } }
      : {}),
    timeouts: {
      ...RFC5321_TIMEOUTS,
      connectMs: config.relayConnectTimeout,
      greetingMs: config.relayCommandTimeout,
      commandMs: config.relayCommandTimeout,
      dataTerminationMs: config.relayDataTimeout,
    },
    ...(dkim ? { dkim } : {}),
  };
  const { resolver } = deps;
  const queue = createRelayQueue(
    {
      isAllowed,
      auto: config.relayAuto,
      ...(deps.relaysFromCopy ? { relaysFromCopy: deps.relaysFromCopy } : {}),
      smarthost: smarthost ? { host: smarthost.host, port: smarthost.port } : null,
      mxPort: config.relayMxPort,
      retry: config.relayRetry,
      giveUp: config.relayGiveUp,
      concurrency: config.relayConcurrency,
    },
    {
      store: deps.store,
      messages: deps.messages,
      bus: deps.bus,
      log: deps.log,
      ...(deps.wakeOn ? { wakeOn: deps.wakeOn } : {}),
      transport: {
        resolveDestination: (domain) => resolveDestination(domain, { resolver }),
        resolveHost: (host) => resolveHostAddresses(host, { resolver }),
        deliver: async (target, envelope, raw) => toHostOutcome(await deliverToHost(target, envelope, raw, deliveryOptions, deps.log)),
      },
    },
  );
  return {
    queue,
    store: deps.store,
    status: {
      auto: config.relayAuto,
      allow: config.relayAllowEveryone ? ['*'] : config.relayAllow,
      smarthost: smarthost ? `${smarthost.host}:${smarthost.port}` : null,
      requireTls: config.relayRequireTls,
    },
  };
}

/** What the queue keeps of one attempt: TLS as "protocol cipher", replies with their codes, our reasons apart. */
function toHostOutcome(attempt: HostAttempt): HostOutcome {
  if (attempt.kind === 'host-failed') return { kind: 'host-failed', reason: attempt.reason, temporary: attempt.temporary, transcript: attempt.transcript };
  return {
    kind: 'attempted',
    tls: attempt.tls ? `${attempt.tls.protocol} ${attempt.tls.cipher}` : null,
    // A reply is only ever what the server said; without a code, the text is our own reason.
    recipients: attempt.recipients.map(({ recipient, status, code, reply }) => (code === null ? { recipient, status, reply: null, reason: reply } : { recipient, status, reply })),
    transcript: attempt.transcript,
  };
}
