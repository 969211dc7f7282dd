/**
 * The relay queue: delivers released messages for real, as an MTA does, from a persistent queue.
 *
 * Jobs are per recipient and live in SQLite (they survive restarts). A tick claims the jobs that
 * are due, groups them by message and recipient domain (one SMTP transaction per domain), finds
 * where the domain's mail goes (MX, implicit MX, or the smarthost) and tries the hosts in order
 * until one takes the message. Each recipient ends delivered, failed (5xx, null MX, NXDOMAIN,
 * give-up) or deferred with its next attempt time. Every change is announced on the bus.
 *
 * Safety: a recipient that the allowlist does not allow is refused before anything is queued, so
 * it is never contacted. SMTP intake never waits for any of this.
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { KotakError } from '../errors.js';
import type { EventBus } from '../events.js';
import { ALL_MAILBOXES, type MailboxScope } from '../mail/mailbox-scope.js';
import type { Envelope } from '../mail/types.js';
import type { RelayJob, RelayStore } from '../store/relay-types.js';
import type { MessageStore } from '../store/types.js';
import type { Destination, HostAddresses } from './mx.js';
import { readRelayAddress } from './recipient.js';


export interface RecipientOutcome {
  readonly recipient: string;
  readonly status: 'delivered' | 'deferred' | 'failed';
  /** What the server answered for this recipient; null when it was not asked or never answered. */
  readonly reply: string | null;
  /** Our own reason when there is no reply (no SMTPUTF8 for a UTF-8 address, no answer). */
  readonly reason?: string;
}

export type HostOutcome =
  /** Nothing was decided for the recipients here (no connection, 421, TLS refused, timeout): try the next host. */
  | { readonly kind: 'host-failed'; readonly reason: string; readonly transcript: readonly string[]; /** False when the host refused for good (5xx greeting, message over its SIZE). */ readonly temporary: boolean }
  | { readonly kind: 'attempted'; readonly tls: string | null; readonly recipients: readonly RecipientOutcome[]; readonly transcript: readonly string[] };

export interface RelayTransport {
  /** Where a domain's mail goes (RFC 5321 5.1), or why it cannot go. */
  resolveDestination(domain: string): Promise<Destination>;
  /** The addresses to connect to for an MX host name. */
  resolveHost(host: string): Promise<HostAddresses>;
  /** One SMTP transaction with one server. */
  deliver(target: { host: string; port: number; label: string }, envelope: { from: string; to: readonly string[] }, raw: Buffer): Promise<HostOutcome>;
}

export interface RelayQueueSettings {
  readonly isAllowed: (recipient: string) => boolean;
  readonly auto: boolean;
  /**
   * With --relay-auto: whether this stored copy is the one to relay the recipient from. Routing
   * stores a message once per mailbox, each copy with the whole envelope; relaying every copy's
   * recipients would send each recipient the message once per copy. Absent: every copy.
   */
  readonly relaysFromCopy?: (envelope: Envelope, mailbox: string, recipient: string) => boolean;
  /** Fixed next hop instead of MX lookups. */
  readonly smarthost: { readonly host: string; readonly port: number } | null;
  readonly mxPort: number;
  readonly retry: readonly number[];
  readonly giveUp: number;
  readonly concurrency: number;
}

export interface RelayQueue {
  /** Queues a stored message for the given recipients (default: its envelope recipients). */
  release(scope: MailboxScope, messageId: string, recipients?: readonly string[]): Promise<RelayJob[]>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** How long stopping waits for deliveries in flight. */
const CLOSE_GRACE_MS = 2000;

/** How many due jobs one tick claims. */
const CLAIM_BATCH = 100;

export function createRelayQueue(
  settings: RelayQueueSettings,
  deps: {
    store: RelayStore; messages: MessageStore; bus: EventBus; transport: RelayTransport; log: Logger; now?: () => number;
    /**
     * News that jobs may have become due that this queue did not make itself (with many nodes on
     * one database: another node's `relay:updated`, so an idle node learns of a job, and of the
     * lease it must take over if that node dies). Absent: the queue hears only of its own jobs.
     */
    wakeOn?: (wake: () => void) => () => void;
  },
): RelayQueue {
  const { store, messages, bus, transport, log } = deps;
  const now = deps.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | null = null;
  let tickAgain = false;
  let closed = false;
  const active = new Set<Promise<void>>();
  const busyDomains = new Map<string, number>();
  /** Claimed groups waiting for a free slot at their domain. */
  const waiting: { domain: string; jobs: RelayJob[] }[] = [];

  function announce(job: RelayJob): void {
    bus.emit('relay:updated', job);
  }

  function nextAttemptAfter(job: RelayJob, at: number): number | null {
    const wait = settings.retry[Math.min(job.attempts, settings.retry.length - 1)] ?? 60_000;
    const next = at + wait;
    return next > Date.parse(job.giveUpAt) ? null : next;
  }

  async function finish(job: RelayJob, outcome: { status: 'delivered' | 'deferred' | 'failed'; reply: string | null; reason: string | null; mxHost: string | null; tls: string | null; transcript: readonly string[] }): Promise<void> {
    const at = now();
    let status = outcome.status;
    let reason = outcome.reason;
    let nextAttemptAt: number | null = null;
    if (status === 'deferred') {
      nextAttemptAt = nextAttemptAfter(job, at);
      if (nextAttemptAt === null) {
        status = 'failed';
        reason = `gave up after ${job.attempts + 1} attempts over ${Math.round((at - Date.parse(job.createdAt)) / 60_000)} min; last: ${outcome.reason ?? outcome.reply ?? 'no answer'}`;
      }
    }
    const updated = await store.complete(job.id, {
      status, nextAttemptAt, mxHost: outcome.mxHost, reply: outcome.reply, reason, tls: outcome.tls,
      attempt: { at, mxHost: outcome.mxHost, outcome: outcome.status, reply: outcome.reply, transcript: outcome.transcript },
    });
    const fields = { messageId: job.messageId, recipient: job.recipient, status, mxHost: outcome.mxHost, reply: outcome.reply, reason };
    if (!updated) {
      // The store refused the outcome: the job was deleted, or (PostgreSQL nodes) this node's lease
      // ran out and another node holds the job now, whose outcome stands. Logged as what it is, so
      // an operator reading "delivered" never counts a delivery the queue does not show.
      log.warn(fields, 'relay attempt not recorded: the job is no longer held by this node');
      return;
    }
    announce(updated);
    log.info(fields, 'relay attempt');
  }

  async function deliverGroup(domain: string, jobs: RelayJob[]): Promise<void> {
    const messageId = jobs[0]!.messageId;
    const [detail, raw] = await Promise.all([messages.get(ALL_MAILBOXES, messageId), messages.getRaw(ALL_MAILBOXES, messageId)]);
    const all = (status: 'deferred' | 'failed', reason: string, mxHost: string | null = null, transcript: readonly string[] = []) =>
      Promise.all(jobs.map((job) => finish(job, { status, reply: null, reason, mxHost, tls: null, transcript })));
    if (!detail || !raw) return void (await all('failed', 'the message was deleted before it could be delivered'));

    let hosts: readonly { host: string; preference: number }[];
    if (settings.smarthost) hosts = [{ host: settings.smarthost.host, preference: 0 }];
    else {
      const destination = await transport.resolveDestination(domain);
      if (destination.kind === 'permanent') return void (await all('failed', destination.reason));
      if (destination.kind === 'temporary') return void (await all('deferred', destination.reason));
      hosts = destination.hosts;
    }
    const port = settings.smarthost?.port ?? settings.mxPort;
    // Jobs hold recipients in their one form already (release); the sender gets the same reading.
    const from = detail.envelope.mailFrom === '' ? '' : (readRelayAddress(detail.envelope.mailFrom)?.address ?? detail.envelope.mailFrom);
    const envelope = { from, to: jobs.map((j) => j.recipient) };
    let lastReason = 'no host to try';
    let lastHost: string | null = null;
    let lastTranscript: readonly string[] = [];
    // Every host that answered refused for good (5xx before the transaction): retrying cannot help.
    let refusedForGoodEverywhere = true;
    for (const { host } of hosts) {
      const addresses: HostAddresses = settings.smarthost || isIP(host) ? { kind: 'addresses', addresses: [host] } : await transport.resolveHost(host);
      if (addresses.kind !== 'addresses') {
        lastReason = `${host}: ${addresses.reason}`;
        lastHost = host;
        refusedForGoodEverywhere = false;
        continue;
      }
      for (const address of addresses.addresses) {
        const outcome = await transport.deliver({ host: address, port, label: host }, envelope, raw);
        lastHost = host;
        if (outcome.kind === 'host-failed') {
          lastReason = `${host}: ${outcome.reason}`;
          lastTranscript = outcome.transcript;
          if (outcome.temporary) refusedForGoodEverywhere = false;
          continue;
        }
        const byRecipient = new Map(outcome.recipients.map((r) => [r.recipient.toLowerCase(), r]));
        await Promise.all(
          jobs.map((job) => {
            const result = byRecipient.get(job.recipient.toLowerCase());
            return finish(job, {
              status: result?.status ?? 'deferred',
              reply: result?.reply ?? null,
              reason: result ? (result.reason ?? null) : 'the server did not answer for this recipient',
              mxHost: host,
              tls: outcome.tls,
              transcript: outcome.transcript,
            });
          }),
        );
        return;
      }
    }
    const anyHostTried = lastHost !== null;
    await all(anyHostTried && refusedForGoodEverywhere ? 'failed' : 'deferred', lastReason, lastHost, lastTranscript);
  }

  function startWaitingGroups(): void {
    for (let i = 0; i < waiting.length; ) {
      const group = waiting[i]!;
      const busy = busyDomains.get(group.domain) ?? 0;
      if (busy >= settings.concurrency) {
        i += 1;
        continue;
      }
      waiting.splice(i, 1);
      busyDomains.set(group.domain, busy + 1);
      const run = deliverGroup(group.domain, group.jobs)
        .catch((err: unknown) => {
          log.error({ err, messageId: group.jobs[0]!.messageId, domain: group.domain }, 'relay delivery failed unexpectedly; deferring');
          return Promise.all(group.jobs.map((job) => finish(job, { status: 'deferred', reply: null, reason: 'internal error; see the server log', mxHost: null, tls: null, transcript: [] }))).then(() => undefined);
        })
        .catch((err: unknown) => log.error({ err }, 'could not record a relay outcome'))
        .finally(() => {
          active.delete(run);
          busyDomains.set(group.domain, (busyDomains.get(group.domain) ?? 1) - 1);
          startWaitingGroups();
          void tick();
        });
      active.add(run);
    }
  }

  async function claimAndStart(): Promise<void> {
    const jobs = await store.claimDue(now(), CLAIM_BATCH);
    const groups = new Map<string, RelayJob[]>();
    for (const job of jobs) {
      const key = `${job.messageId}\u0000${job.domain}`;
      const group = groups.get(key);
      if (group) group.push(job);
      else groups.set(key, [job]);
    }
    for (const group of groups.values()) waiting.push({ domain: group[0]!.domain, jobs: group });
    startWaitingGroups();
    await schedule();
  }

  async function schedule(): Promise<void> {
    clearTimeout(timer);
    if (closed) return;
    const due = await store.nextDueAt();
    if (due === null) return;
    timer = setTimeout(() => void tick(), Math.max(0, due - now()));
    timer.unref();
  }

  /** One claim at a time; a request during one runs once more after it. */
  function tick(): Promise<void> {
    if (closed) return Promise.resolve();
    if (ticking) {
      tickAgain = true;
      return ticking;
    }
    ticking = (async () => {
      try {
        do {
          tickAgain = false;
          await claimAndStart();
        } while (tickAgain && !closed);
      } catch (err) {
        log.error({ err }, 'relay queue tick failed');
      } finally {
        ticking = null;
      }
    })();
    return ticking;
  }

  /** `scope`: the caller's; a message outside it is not found. */
  async function release(scope: MailboxScope, messageId: string, recipients?: readonly string[]): Promise<RelayJob[]> {
    const detail = await messages.get(scope, messageId);
    if (!detail) throw new KotakError('not_found', `no message ${messageId}`);
    const written = [...new Set((recipients ?? detail.envelope.rcptTo).map((r) => r.trim()).filter(Boolean))];
    if (written.length === 0) throw new KotakError('invalid_request', 'no recipients to relay to');
    // Judged, queued and sent in one form (recipient.ts), so two spellings are one job.
    const read = written.map((address) => ({ written: address, recipient: readRelayAddress(address) }));
    const refused = read.filter(({ recipient }) => recipient === undefined || !settings.isAllowed(recipient.address)).map((r) => r.written);
    if (refused.length > 0) {
      throw new KotakError('relay_not_allowed', `not allowed by --relay-allow, so nothing was queued: ${refused.join(', ')}`);
    }
    const wanted = new Map(read.flatMap(({ recipient }) => (recipient ? [[recipient.address, recipient.domain] as const] : [])));
    const at = now();
    const jobs = await store.enqueue(messageId, detail.mailbox, [...wanted].map(([recipient, domain]) => ({ recipient, domain })), at, at + settings.giveUp);
    for (const job of jobs) announce(job);
    void tick();
    return jobs;
  }

  let unsubscribe: (() => void) | null = null;
  let unsubscribeWake: (() => void) | null = null;

  /** Looks for the next due time again; news during a look asks for one more look after it, not one each. */
  let waking = false;
  let wakeAgain = false;
  function wake(): void {
    if (waking) {
      wakeAgain = true;
      return;
    }
    waking = true;
    void (async () => {
      do {
        wakeAgain = false;
        await schedule();
      } while (wakeAgain && !closed);
    })()
      .catch((err: unknown) => log.error({ err }, 'relay queue could not look for due jobs'))
      .finally(() => (waking = false));
  }

  return {
    release,
    async start() {
      const requeued = await store.requeueInterrupted(now());
      if (requeued > 0) log.warn({ jobs: requeued }, 'relay jobs interrupted by a stop were queued again');
      unsubscribeWake = deps.wakeOn?.(wake) ?? null;
      if (settings.auto) {
        unsubscribe = bus.on('message:stored', (summary) => {
          void (async () => {
            const detail = await messages.get(ALL_MAILBOXES, summary.id);
            if (!detail) return;
            const ownsRecipient = settings.relaysFromCopy ?? (() => true);
            const allowed = detail.envelope.rcptTo.filter((r) => {
              if (!ownsRecipient(detail.envelope, detail.mailbox, r)) return false;
              const recipient = readRelayAddress(r);
              return recipient !== undefined && settings.isAllowed(recipient.address);
            });
            if (allowed.length > 0) await release(ALL_MAILBOXES, summary.id, allowed);
          })().catch((err: unknown) => log.error({ err, messageId: summary.id }, 'automatic relay could not queue a message'));
        });
      }
      await tick();
    },
    async close() {
      closed = true;
      unsubscribe?.();
      unsubscribeWake?.();
      clearTimeout(timer);
      await ticking;
      // A delivery in flight may wait minutes on a slow server; its jobs stay `sending` and are
      // queued again at the next start, so stopping need not wait for it.
      await Promise.race([Promise.allSettled([...active]), new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref())]);
    },
  };
}
