/**
 * Every Prometheus metric of Kotak, defined here once (names by Prometheus' conventions: the
 * `kotak_` prefix, `_total` counters, base units), and `GET /metrics`' text. Counting is the only
 * work done while mail flows: each labelled child is looked up once and cached (BoundedLabel), so a
 * message costs a few additions. Everything else (waiters, WebSocket clients, relay jobs by status,
 * database size, the process) is read when Prometheus scrapes.
 *
 * Other features add their metrics to `registry` (chaos: `kotak_chaos_firings_total`; webhooks:
 * `kotak_webhook_*`), each defining them in its own module with `registers: [metrics.registry]`.
 */
import { stat } from 'node:fs/promises';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { EventBus } from '../events.js';
import type { SmtpWarning } from '../mail/types.js';
import type { SmtpRefusalReason } from '../smtp/refusal-reason.js';
import type { RelayStatus } from '../store/relay-types.js';
import type { WebhookDeliveryStatus } from '../store/webhook-types.js';
import { BoundedLabel } from './bounded-label.js';
import type { ConnectionCounter } from './connections.js';
import type { AuthProtocol, IntakeMetrics, MetricsProtocol, SmtpMetrics } from './types.js';

export type { ConnectionCounter } from './connections.js';
export type { AuthProtocol, IntakeMetrics, MetricsProtocol, SmtpMetrics } from './types.js';

/** Mailboxes (and tags) with a series of their own; the rest are counted as `_other`. */
export const MAX_LABELLED_MAILBOXES = 100;
export const MAX_LABELLED_TAGS = 100;

/** End of DATA → 250: 0.1 ms (a small message, group commit idle) to 10 s (a stalled disk). */
export const DATA_TO_REPLY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const RELAY_STATUSES: readonly RelayStatus[] = ['queued', 'sending', 'delivered', 'deferred', 'failed'];
const WEBHOOK_STATUSES: readonly WebhookDeliveryStatus[] = ['pending', 'sending', 'delivered', 'failed'];
const SMTP_FLAGS = ['bare-lf', 'bare-cr', 'text-cut'] as const;
const COUNTED_PROTOCOLS: readonly Exclude<MetricsProtocol, 'http-live'>[] = ['smtp', 'pop3', 'imap'];
const AUTH_PROTOCOLS: readonly AuthProtocol[] = ['smtp', 'pop3', 'imap', 'http'];

/** What is read when Prometheus scrapes, wired once the modules that know it exist (src/app.ts). */
export interface ScrapeSources {
  /** `GET /api/messages/wait` requests held now. */
  readonly waiters: () => number;
  /** WebSocket clients now, by endpoint: `live` (/api/live), `mailpit-events` (Mailpit's /api/events). */
  readonly websocketClients: () => Readonly<Record<string, number>>;
  /** Relay jobs by status (null: relay is off). */
  readonly relayJobs: (() => Promise<Readonly<Record<RelayStatus, number>>>) | null;
  /** Webhook deliveries in the outbox by status, every endpoint's (null or absent: no webhook configured). */
  readonly webhookDeliveries?: (() => Promise<Readonly<Record<WebhookDeliveryStatus, number>>>) | null;
  /** The database's size in bytes (null: not known, e.g. SQLite in memory). */
  readonly databaseBytes: () => Promise<number | null>;
}

export interface Metrics {
  /** Where other features register their metrics. */
  readonly registry: Registry;
  readonly smtp: SmtpMetrics;
  readonly intake: IntakeMetrics;
  connections(protocol: Exclude<MetricsProtocol, 'http-live'>): ConnectionCounter;
  authFailed(protocol: AuthProtocol): void;
  /** A chaos rule acted at this SMTP stage (src/smtp/chaos.ts): stages × actions, a bounded set. */
  chaosFired(stage: string, action: string): void;
  /** Counts this node's stored messages, their bytes and tags, and relay attempts, from its own bus. */
  listen(bus: EventBus): () => void;
  scrapeFrom(sources: ScrapeSources): void;
  /** The exposition text and its content type. */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
}

/** The process metrics (prom-client's defaults, under its own names), once per process: there is one process. */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // Gauges that prom-client names with `_total`, which promtool rejects (non-counters must not
    // end in it); the same counts remain by type in nodejs_active_handles, _requests and _resources.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) processRegistry.removeSingleMetric(name);
  }
  return processRegistry;
}

/** SQLite's bytes on disk: the database file and its WAL (null in memory). */
export async function sqliteFileBytes(path: string): Promise<number | null> {
  if (path === ':memory:' || path === '') return null;
  const size = async (file: string): Promise<number> => (await stat(file).catch(() => null))?.size ?? 0;
  const [main, wal] = await Promise.all([size(path), size(`${path}-wal`)]);
  return main + wal;
}

export function createMetrics(deps: { log: Logger }): Metrics {
  const { log } = deps;
  const registry = new Registry();
  const registers = [registry];
  let sources: ScrapeSources | null = null;

  const received = new Counter({ name: 'kotak_smtp_messages_received_total', help: 'SMTP DATA transfers that ended (stored or refused after)', registers });
  const storedMessages = new Counter({ name: 'kotak_messages_stored_total', help: `Messages stored, per mailbox (the first ${MAX_LABELLED_MAILBOXES} mailboxes seen; the rest as _other)`, labelNames: ['mailbox'], registers });
  const storedBytes = new Counter({ name: 'kotak_messages_stored_bytes_total', help: 'Bytes of the messages stored (raw size), per mailbox', labelNames: ['mailbox'], registers });
  const refusals = new Counter({ name: 'kotak_smtp_refusals_total', help: 'SMTP replies of 400 and more, by reason and reply code', labelNames: ['reason', 'code'], registers });
  const dataToReply = new Histogram({ name: 'kotak_smtp_data_to_reply_seconds', help: 'From the end of DATA to the 250 (the message committed)', buckets: [...DATA_TO_REPLY_BUCKETS], registers });
  const connectionsOpen = new Gauge({ name: 'kotak_connections_open', help: 'Connections open now, per protocol (http-live: the WebSockets)', labelNames: ['protocol'], registers, collect() {
    if (sources) connectionsOpen.set({ protocol: 'http-live' }, sumOf(sources.websocketClients()));
  } });
  const chaosFirings = new Counter({ name: 'kotak_chaos_firings_total', help: 'Chaos rules that acted, by SMTP stage and action', labelNames: ['stage', 'action'], registers });
  const authFailures = new Counter({ name: 'kotak_auth_failures_total', help: 'Failed logins, per protocol', labelNames: ['protocol'], registers });
  const parseFailures = new Counter({ name: 'kotak_parse_failures_total', help: 'Messages that could not be parsed, kept raw', registers });
  const flagged = new Counter({ name: 'kotak_messages_flagged_total', help: 'Messages received with a flag: bare-lf, bare-cr (line endings in DATA), text-cut (text bounded in the store)', labelNames: ['flag'], registers });
  const tagged = new Counter({ name: 'kotak_messages_tagged_total', help: `Messages tagged at intake, per tag (the first ${MAX_LABELLED_TAGS} tags seen; the rest as _other)`, labelNames: ['tag'], registers });
  const relayAttempts = new Counter({ name: 'kotak_relay_attempts_total', help: 'Relay delivery attempts recorded, by outcome', labelNames: ['outcome'], registers });
  const waiters = new Gauge({ name: 'kotak_waiters', help: 'GET /api/messages/wait requests held now', registers, collect() {
    if (sources) waiters.set(sources.waiters());
  } });
  const websocketClients = new Gauge({ name: 'kotak_websocket_clients', help: 'WebSocket clients connected now, per endpoint', labelNames: ['endpoint'], registers, collect() {
    if (!sources) return;
    for (const [endpoint, count] of Object.entries(sources.websocketClients())) websocketClients.set({ endpoint }, count);
  } });
  const relayJobs = new Gauge({ name: 'kotak_relay_jobs', help: 'Relay jobs in the queue, by status (absent: relay is off)', labelNames: ['status'], registers, async collect() {
    if (!sources?.relayJobs) return;
    try {
      const counts = await sources.relayJobs();
      for (const status of RELAY_STATUSES) relayJobs.set({ status }, counts[status]);
    } catch (err) {
      // A scrape while the database is unwell still answers, with the last counts.
      log.warn({ err }, 'metrics: could not count relay jobs');
    }
  } });
  let webhookDeliveriesGauge: Gauge | null = null;
  const outboxDepthGauge = (): Gauge => {
    const gauge: Gauge = new Gauge({ name: 'kotak_webhook_deliveries', help: 'Webhook deliveries in the outbox, by status', labelNames: ['status'], registers, async collect() {
      if (!sources?.webhookDeliveries) return;
      try {
        const counts = await sources.webhookDeliveries();
        for (const status of WEBHOOK_STATUSES) gauge.set({ status }, counts[status]);
      } catch (err) {
        // As for relay jobs: the scrape still answers, with the last counts.
        log.warn({ err }, 'metrics: could not count webhook deliveries');
      }
    } });
    return gauge;
  };
  const databaseSize = new Gauge({ name: 'kotak_database_size_bytes', help: 'Size of the database (SQLite: file and WAL; PostgreSQL: pg_database_size)', registers, async collect() {
    if (!sources) return;
    try {
      const bytes = await sources.databaseBytes();
      if (bytes !== null) databaseSize.set(bytes);
    } catch (err) {
      log.warn({ err }, 'metrics: could not read the database size');
    }
  } });

  // Series that exist from the start (a rate over a counter that appears later misses its first step).
  received.inc(0);
  parseFailures.inc(0);
  for (const flag of SMTP_FLAGS) flagged.inc({ flag }, 0);
  for (const protocol of AUTH_PROTOCOLS) authFailures.inc({ protocol }, 0);
  for (const outcome of ['delivered', 'deferred', 'failed']) relayAttempts.inc({ outcome }, 0);

  const byMailbox = new BoundedLabel(MAX_LABELLED_MAILBOXES, (mailbox) => ({ messages: storedMessages.labels(mailbox), bytes: storedBytes.labels(mailbox) }));
  const byTag = new BoundedLabel(MAX_LABELLED_TAGS, (tag) => tagged.labels(tag));
  const flagChildren = { 'bare-lf': flagged.labels('bare-lf'), 'bare-cr': flagged.labels('bare-cr'), 'text-cut': flagged.labels('text-cut') } satisfies Record<SmtpWarning | 'text-cut', Counter.Internal>;
  const authChildren = new Map(AUTH_PROTOCOLS.map((protocol) => [protocol, authFailures.labels(protocol)]));
  // Reasons are a fixed set and codes a handful per reason: bounded without a cap.
  const refusalChildren = new Map<string, Counter.Internal>();

  const connectionCounters = new Map<string, ConnectionCounter>();
  for (const protocol of COUNTED_PROTOCOLS) {
    const child = connectionsOpen.labels(protocol);
    child.set(0);
    connectionCounters.set(protocol, { opened: () => child.inc(), closed: () => child.dec() });
  }

  const smtp: SmtpMetrics = {
    connections: connectionCounters.get('smtp')!,
    messageReceived: () => received.inc(),
    replied: (seconds) => dataToReply.observe(seconds),
    refused(reason: SmtpRefusalReason, code: number) {
      const key = `${reason} ${code}`;
      let child = refusalChildren.get(key);
      if (!child) refusalChildren.set(key, (child = refusals.labels(reason, String(code))));
      child.inc();
      if (reason === 'auth_failed') authChildren.get('smtp')!.inc();
    },
  };

  const intake: IntakeMetrics = {
    parsed(ok, textCut, smtpWarnings) {
      if (!ok) parseFailures.inc();
      if (textCut) flagChildren['text-cut'].inc();
      if (smtpWarnings) for (const warning of smtpWarnings) flagChildren[warning].inc();
    },
    ruleTagged: (tag, count) => byTag.get(tag).inc(count),
  };

  return {
    registry,
    smtp,
    intake,
    connections: (protocol) => connectionCounters.get(protocol)!,
    authFailed: (protocol) => authChildren.get(protocol)!.inc(),
    chaosFired: (stage, action) => chaosFirings.inc({ stage, action }),
    listen(bus) {
      const offStored = bus.on('message:stored', (summary) => {
        const mailbox = byMailbox.get(summary.mailbox);
        mailbox.messages.inc();
        mailbox.bytes.inc(summary.size);
        for (const tag of summary.tags) byTag.get(tag).inc();
      });
      const offRelay = bus.on('relay:updated', (job) => {
        // A job reaches these only by an attempt's outcome being recorded (queue.ts finish()).
        if (job.status === 'delivered' || job.status === 'deferred' || job.status === 'failed') relayAttempts.inc({ outcome: job.status });
      });
      return () => {
        offStored();
        offRelay();
      };
    },
    scrapeFrom(wired) {
      sources = wired;
      // Only with a webhook configured: a Kotak without one shows no webhook metric at all.
      if (wired.webhookDeliveries) webhookDeliveriesGauge ??= outboxDepthGauge();
    },
    async render() {
      // Kotak's first, then the process's; both registries speak the same text format.
      const [own, process] = await Promise.all([registry.metrics(), processMetrics().metrics()]);
      return { contentType: registry.contentType, body: `${own}\n${process}` };
    },
  };
}

function sumOf(counts: Readonly<Record<string, number>>): number {
  let sum = 0;
  for (const count of Object.values(counts)) sum += count;
  return sum;
}
