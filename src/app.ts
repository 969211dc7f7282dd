/**
 * The composition root: the only place that builds modules and wires them together.
 * createApp() builds everything; start() opens the listeners; stop() closes them in reverse.
 */
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { getRequestListener } from '@hono/node-server';
import type { Logger } from 'pino';
import type { SmtpInfo } from './api/schemas.js';
import { createApi } from './api/app.js';
import { createWaitRegistry } from './api/waiters.js';
import { createRelay } from './relay/index.js';
import { createSpamCheck, describeSpamdAddress } from './checks/spam/index.js';
import { createDnsResolver } from './dns.js';
import { checkDeliverability } from './checks/deliverability/index.js';
import { mountMailhogApi } from './compat/mailhog/index.js';
import { mountCompatOpenApi } from './compat/openapi.js';
import { createMailpitEvents, MAILPIT_EVENTS_PATH, MAILPIT_SEND_PATH, mountMailpitApi } from './compat/mailpit/index.js';
import { createHostPolicy } from './api/host-check.js';
import { createOriginPolicy } from './api/origin.js';
import { PLAIN_RESPONSE_HEADERS } from './api/security.js';
import { createUpgradeGuard, refuseUnknownUpgradePath, refuseUpgrade } from './api/upgrade-guard.js';
import { exposureWarnings, loadHttpAccess } from './http-auth.js';
import { createCredentialCheck } from './access/credentials.js';
import { loadHtpasswd } from './auth/htpasswd.js';
import { createPasswordVerifier } from './auth/verifier.js';
import { createMaildropSource } from './access/maildrop.js';
import { createFolderSource, loginFolders } from './access/folders.js';
import { createAppend } from './append.js';
import { isPostgresUrl, type Config, type TlsSetting } from './config.js';
import { isKotakError, KotakError } from './errors.js';
import { createEventBus, type EventBus } from './events.js';
import { createIngest } from './ingest.js';
import { compileRouting } from './mailbox/routing.js';
import { compileTagSources } from './mailbox/tag-rules.js';
import { ALL_MAILBOXES } from './mail/mailbox-scope.js';
import type { SearchQuery } from './mail/search-query.js';
import { createMailboxService } from './mailbox/service.js';
import { createLiveHub } from './live/hub.js';
import { createLogger } from './log.js';
import { LIVE_PATH } from './live/protocol.js';
import { createParserPool } from './parse/pool.js';
import { createPop3Server } from './pop3/server.js';
import { createImapServer } from './imap/server.js';
import { startRetention } from './retention.js';
import { createSmtpServer } from './smtp/server.js';
import { createChaosGate } from './smtp/chaos.js';
import { createChaos } from './chaos/index.js';
import { createSelfSignedCertificate, loadCertificate, type TlsMaterial } from './smtp/tls.js';
import { withFullText } from './store/full-text.js';
import type { RelayStore } from './store/relay-types.js';
import type { WebhookStore } from './store/webhook-types.js';
import { openSpool, type Spool } from './store/spool.js';
import { makeSpoolDir, sweepStaleSpoolDirs } from './store/spool-dirs.js';
import { DEFAULT_RAW_FILE_MIN_BYTES, openSqliteStore } from './store/sqlite.js';
import type { MessageStore } from './store/types.js';
import { VERSION } from './version.js';
import { createLinkChecker } from './checks/links/check.js';
import { createMetrics, sqliteFileBytes } from './metrics/index.js';
import { countingFailures } from './metrics/auth-failures.js';
import { dnsServerLookup, systemLookup, type HostLookup } from './checks/links/lookup.js';
import { createWebhooks, endpointsForStored, type Webhooks } from './webhooks/index.js';
import { createKotakBody } from './webhooks/kotak-body.js';
import { createMailpitBody } from './webhooks/mailpit-body.js';
import { createWebhookMetrics } from './metrics/webhooks.js';
import type { WebhookMetrics } from './metrics/types.js';
import type { WebhookBodyBuilder } from './webhooks/types.js';

export interface RunningKotak {
  readonly smtpPort: number;
  /** The POP3 port, or null when POP3 is off (no --pop3). */
  readonly pop3Port: number | null;
  /** The IMAP port, or null when IMAP is off (no --imap). */
  readonly imapPort: number | null;
  readonly httpPort: number;
  /** Base URL of the HTTP API and web inbox, e.g. http://127.0.0.1:8025 */
  readonly url: string;
  stop(): Promise<void>;
}

function listenHttp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Why a listener could not open, in words, by the errno Node reports. */
const LISTEN_FAILURES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'address not available on this machine',
};

/** A listener's failure as one line naming the flag and address: `--smtp 127.0.0.1:25: address already in use`. */
async function naming<T>(flag: string, address: { host: string; port: number }, listening: Promise<T>): Promise<T> {
  try {
    return await listening;
  } catch (err) {
    const cause = LISTEN_FAILURES[(err as NodeJS.ErrnoException).code ?? ''] ?? (err as Error).message;
    const host = address.host.includes(':') ? `[${address.host}]` : address.host;
    throw new KotakError('invalid_config', `${flag} ${host}:${address.port}: ${cause}`, { cause: err });
  }
}

/** The request path relative to the base path (always starting with '/'), or null when outside it. */
function withinBasePath(url: string, basePath: string): string | null {
  if (basePath === '/') return url;
  if (url.startsWith(basePath)) return url.slice(basePath.length - 1);
  if (url === basePath.slice(0, -1) || url.startsWith(`${basePath.slice(0, -1)}?`)) return `/${url.slice(basePath.length - 1)}`;
  return null;
}

function urlHost(host: string): string {
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return shown.includes(':') ? `[${shown}]` : shown;
}

async function resolveTls(tls: TlsSetting, hostname: string): Promise<TlsMaterial | null> {
  if (tls.mode === 'off') return null;
  if (tls.mode === 'auto') return createSelfSignedCertificate(hostname);
  return loadCertificate(tls.cert, tls.key);
}

/** What a caller (a test) may put in place of the real thing. */
export interface AppOptions {
  readonly log?: Logger;
  /** Name → addresses for the link check (default: the system's resolver). */
  readonly linkCheckLookup?: HostLookup;
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<RunningKotak> {
  const log = options.log ?? createLogger(config);
  // Checked before anything opens: a bad rule is a configuration error at start.
  const routing = compileRouting({ routes: config.mailboxRoute, bySmtpUser: config.mailboxBySmtpUser });
  const tagSources = compileTagSources(config);
  // One verifier for every password file: SMTP, POP3 and HTTP share its workers and its bound.
  const verifier = createPasswordVerifier({}, { log: log.child({ component: 'auth' }) });
  const credentials = config.smtpAuth.mode === 'file' ? await loadHtpasswd(config.smtpAuth.path, verifier) : null;
  const tls = await resolveTls(config.smtpTls, config.hostname);
  const pop3Credentials = config.pop3 && config.pop3Auth.mode === 'file' ? await loadHtpasswd(config.pop3Auth.path, verifier) : null;
  const pop3Tls = config.pop3 ? await resolveTls(config.pop3Tls, config.hostname) : null;
  const imapCredentials = config.imap && config.imapAuth.mode === 'file' ? await loadHtpasswd(config.imapAuth.path, verifier) : null;
  const imapTls = config.imap ? await resolveTls(config.imapTls, config.hostname) : null;
  const httpAccess = await loadHttpAccess(config, verifier);
  const origins = createOriginPolicy(config.httpCors);
  const hosts = createHostPolicy({ allowed: config.httpAllowedHosts, hostname: config.hostname, authOn: httpAccess.auth !== null });

  const onListenerError = (err: unknown, name: string) => log.error({ err, event: name }, 'event listener failed');
  // Producers (the mailbox service, the relay queue) emit here; consumers listen on database.bus,
  // which with many nodes carries every node's events (live/pg-events.ts), else is this one.
  const bus = createEventBus(onListenerError);
  // Counted from this node's own bus (with PostgreSQL, database.bus also carries other nodes' events).
  const metrics = createMetrics({ log: log.child({ component: 'metrics' }) });
  const stopCounting = metrics.listen(bus);
  const database = isPostgresUrl(config.db) ? await openPostgresDatabase(config, bus, log, onListenerError) : await openSqliteDatabase(config, bus, log);
  const storage = database.store;
  const parser = createParserPool(
    { size: config.parseWorkers, timeoutMs: config.parseTimeout, mimeLimits: { maxParts: config.maxMimeParts, maxDepth: config.maxMimeDepth, maxHeaderBytes: config.maxHeaderSize } },
    { log: log.child({ component: 'parser' }) },
  );
  // Every reader of a message gets its whole text, also where the store keeps it bounded.
  const store = withFullText(storage, { parser, log: log.child({ component: 'store' }) });
  // Webhooks (only with --webhook): `message:stored` deliveries are written with each message by
  // the store; the rest are enqueued from this node's bus; the dispatcher POSTs them, off the SMTP path.
  const webhooks = config.webhook.length > 0 ? createAppWebhooks(config, { database, bus, store, log, metrics: createWebhookMetrics(metrics.registry) }) : null;
  // Every write that others must hear of (store, delete, mark read, prune) goes through here.
  const mailboxes = createMailboxService({
    store, bus, configuredMailboxes: routing.configuredMailboxes,
    ...(webhooks ? { webhookEndpointsForStored: endpointsForStored({ urls: config.webhook, events: config.webhookEvents }) } : {}),
  });
  const tagging = {
    sources: tagSources,
    storedMatching: async (query: SearchQuery, ids: readonly string[]) => (await store.find(ALL_MAILBOXES, { query, ids, limit: ids.length })).map((m) => m.id),
  };
  const deliver = createIngest({ parser, mailboxes, routing, tagging, log: log.child({ component: 'ingest' }), metrics: metrics.intake });
  // chaos: the rules (--chaos-rule, the API) and the SMTP stages they act at; inert without rules.
  const chaos = createChaos({ rules: config.chaosRule, seed: config.chaosSeed });
  const chaosGate = createChaosGate({
    engine: chaos.engine, refusals: chaos.refusals, log: log.child({ component: 'chaos' }), onFired: metrics.chaosFired,
    // The mailbox a recipient lands in, by the same routing as the message would be stored.
    mailboxOf: (recipient, user) => routing.mailboxOf({ mailFrom: '', rcptTo: [recipient], clientAddress: '', heloName: '', user, tls: false }, recipient),
  });
  const retention = startRetention(
    { maxMessages: config.maxMessages, maxAge: config.maxAge },
    { mailboxes, bus: database.bus, log: log.child({ component: 'retention' }), ...(database.exclusive ? { exclusive: database.exclusive } : {}) },
  );

  const smtp = createSmtpServer(
    {
      host: config.smtp.host,
      port: config.smtp.port,
      hostname: config.hostname,
      maxMessageSize: config.maxMessageSize,
      maxRecipients: config.maxRecipients,
      requireTls: config.smtpRequireTls,
      implicitTls: config.smtpTlsImplicit,
      clientLimits: {
        maxConnections: config.smtpMaxConnections,
        maxConnectionsPerClient: config.smtpMaxConnectionsPerIp,
        connectionRate: config.smtpConnectionRate,
        messageRate: config.smtpMessageRate,
        authFailureRate: config.smtpAuthFailureRate,
      },
      idleTimeoutMs: config.smtpIdleTimeout,
      sessionTimeoutMs: config.smtpSessionTimeout,
      stress: { lineTimeoutMs: config.smtpStressLineTimeout, sessionTimeoutMs: config.smtpStressSessionTimeout },
    },
    { deliver, spool: database.spool, auth: config.smtpAuth, credentials, tls, log: log.child({ component: 'smtp' }), hasRoom: database.hasRoom, chaos: chaosGate, metrics: metrics.smtp },
  );

  const live = createLiveHub({ bus: database.bus, log: log.child({ component: 'live' }), refuse: refuseUpgrade, chaosRefusals: chaos.refusals });
  const basePath = config.httpBasePath;
  const waiters = createWaitRegistry({ bus: database.bus, store, log: log.child({ component: 'waiters' }) });
  // One resolver for every DNS question Kotak asks (--dns): relay's MX lookups, the checks' TXT lookups.
  // A few seconds per try, twice: a relay job is then deferred, a check answers temperror.
  const resolver = createDnsResolver({ servers: config.dns, timeoutMs: 5000, tries: 2 });
  const relay = await createRelay(config, {
    resolver,
    store: database.relay,
    messages: store,
    // The queue's own news, and --relay-auto's "stored here": this node's events only.
    bus,
    ...(database.wakeOn ? { wakeOn: database.wakeOn } : {}),
    log: log.child({ component: 'relay' }),
    // A message routed to several mailboxes is relayed once per recipient, from that recipient's copy.
    relaysFromCopy: (envelope, mailbox, recipient) => routing.mailboxOf(envelope, recipient) === mailbox,
  });
  // checks: spam (run on request only; nothing on the SMTP path calls it)
  const spamCheck = config.spamassassin
    ? createSpamCheck({ spamd: config.spamassassin, timeoutMs: config.spamassassinTimeout, maxBytes: config.spamassassinMaxSize })
    : null;
  // checks: links (one checker, so its limits on requests at once hold across every check running)
  const linkChecker = createLinkChecker(
    { allowPrivate: config.linkCheckPrivate, timeoutMs: config.linkCheckTimeout, userAgent: `Kotak/${VERSION} (link check)` },
    { lookup: options.linkCheckLookup ?? (config.dns.length > 0 ? dnsServerLookup(config.dns) : systemLookup), log: log.child({ component: 'link-check' }) },
  );
  const compat = { store, bus: database.bus, mailboxes, parser, deliver, version: VERSION, maxMessageSize: config.maxMessageSize, spamCheck, linkChecker, chaos: chaos.engine };
  const mailpitEvents = createMailpitEvents({ ...compat, log: log.child({ component: 'mailpit' }) });
  // Bound below, before the HTTP server listens, so every request reads the real port.
  let smtpPort = config.smtp.port;
  const smtpInfo = (): SmtpInfo => ({
    host: config.smtp.host,
    port: smtpPort,
    auth: config.smtpAuth.mode === 'file' ? 'password' : config.smtpAuth.mode,
    tls: config.smtpTls.mode === 'off' ? 'off' : config.smtpTlsImplicit ? 'implicit' : config.smtpRequireTls ? 'required' : 'starttls',
    selfSigned: config.smtpTls.mode === 'auto',
  });
  const api = createApi({
    store, mailboxes, parser, tagSources, log: log.child({ component: 'api' }), version: VERSION,
    webDistDir: new URL('../web/dist/', import.meta.url), basePath, waiters, maxWaitMs: config.maxWait, relay, smtpInfo,
    webhooks: webhooks ? { store: database.webhooks } : null,
    auth: httpAccess.auth, origins, hosts, ownBodyLimits: [MAILPIT_SEND_PATH], spamCheck, linkChecker, chaos,
    checkDeliverability: (raw, envelopeFrom) => checkDeliverability(raw, envelopeFrom, { resolver }),
    metrics: { render: () => metrics.render(), token: config.metricsToken }, onAuthFailure: () => metrics.authFailed('http'),
    mountExtra: (app) => {
      // MailHog first: both answer DELETE /api/v1/messages; MailHog's handler takes only the bodiless
      // form (delete all) and passes Mailpit's {"IDs":[...]} form on.
      mountMailhogApi(app, { ...compat, log: log.child({ component: 'mailhog' }) });
      mountMailpitApi(app, { ...compat, log: log.child({ component: 'mailpit' }) });
      mountCompatOpenApi(app, { version: VERSION, basePath });
    },
  });
  const handle = getRequestListener(api.fetch);
  const http = createServer((request, response) => {
    const path = withinBasePath(request.url ?? '/', basePath);
    if (path === null) {
      // Outside the base path: point people (and a bare `/`) at the inbox.
      response.writeHead(request.url === '/' || request.url === '' ? 302 : 404, { ...PLAIN_RESPONSE_HEADERS, Location: basePath, 'Content-Type': 'text/plain' });
      response.end(`Kotak is served under ${basePath}\n`);
      return;
    }
    request.url = path;
    void handle(request, response);
  });
  // Both WebSockets pass the same gate (origin, then credentials) before the handshake is answered.
  const upgradeGuard = createUpgradeGuard({ auth: httpAccess.auth, origins, hosts, log: log.child({ component: 'http' }), onAuthFailure: () => metrics.authFailed('http') });
  http.on('upgrade', (request, socket, head) => {
    const path = withinBasePath(request.url ?? '', basePath)?.split('?')[0];
    const hub = path === LIVE_PATH ? live : path === MAILPIT_EVENTS_PATH ? mailpitEvents : null;
    // The gate first, as for HTTP: an unknown path is answered 404 only to a client it admits.
    void upgradeGuard.admit(request, socket).then((access) => {
      if (access === null) return;
      if (hub === null) refuseUnknownUpgradePath(socket);
      else hub.handleUpgrade(request, socket, head, access);
    });
  });

  const pop3 = config.pop3
    ? createPop3Server(
        { host: config.pop3.host, port: config.pop3.port, idleTimeoutMs: config.pop3IdleTimeout, implicitTls: config.pop3TlsImplicit, maxConnections: config.pop3MaxConnections },
        {
          credentials: countingFailures(createCredentialCheck(config.pop3Auth, pop3Credentials), () => metrics.authFailed('pop3')),
          maildrops: createMaildropSource(
            { limit: config.pop3MaildropSize },
            // Which mailbox a login reads is routing's answer, so SMTP AUTH and POP3 agree on it.
            { store, mailboxes, readerMailbox: routing.readerMailbox, log: log.child({ component: 'maildrop' }) },
          ),
          tls: pop3Tls,
          log: log.child({ component: 'pop3' }),
          connections: metrics.connections('pop3'),
        },
      )
    : null;

  const imap = config.imap
    ? createImapServer(
        {
          host: config.imap.host, port: config.imap.port, idleTimeoutMs: config.imapIdleTimeout, implicitTls: config.imapTlsImplicit,
          maxConnections: config.imapMaxConnections, maxMessageSize: config.maxMessageSize, folderSize: config.imapFolderSize,
        },
        {
          credentials: countingFailures(createCredentialCheck(config.imapAuth, imapCredentials), () => metrics.authFailed('imap')),
          connections: metrics.connections('imap'),
          folders: createFolderSource(
            {},
            {
              store, mailboxes, log: log.child({ component: 'folders' }),
              // APPEND and COPY go through the same parser pool and mailbox service as SMTP intake.
              append: createAppend({ parser, mailboxes, log: log.child({ component: 'append' }), maxMessageSize: config.maxMessageSize }),
              // INBOX is what POP3 would read; with --mailbox-by-smtp-user a login sees only its own mailbox.
              policy: loginFolders(routing, config.mailboxBySmtpUser),
            },
          ),
          // Every node's events: a change made through another node reaches this one's sessions.
          bus: database.bus,
          tls: imapTls,
          log: log.child({ component: 'imap' }),
        },
      )
    : null;
  // What /metrics reads when scraped (nothing of it is computed while mail flows).
  metrics.scrapeFrom({
    waiters: () => waiters.size,
    websocketClients: () => ({ live: live.clientCount, 'mailpit-events': mailpitEvents.clientCount }),
    relayJobs: relay ? () => database.relay.countByStatus() : null,
    webhookDeliveries: webhooks ? () => database.webhooks.countByStatus() : null,
    databaseBytes: database.sizeBytes,
  });

  let pop3Port: number | null = null;
  let imapPort: number | null = null;
  let httpPort: number;
  try {
    await relay?.queue.start();
    await webhooks?.start();
    smtpPort = await naming('--smtp', config.smtp, smtp.listen());
    if (pop3 && config.pop3) pop3Port = await naming('--pop3', config.pop3, pop3.listen());
    if (imap && config.imap) imapPort = await naming('--imap', config.imap, imap.listen());
    httpPort = await naming('--http', config.http, listenHttp(http, config.http.host, config.http.port));
  } catch (err) {
    await Promise.allSettled([smtp.close(), pop3?.close(), imap?.close(), retention.stop(), relay?.queue.close(), webhooks?.stop(), parser.close(), verifier.close()]);
    await database.close();
    throw err;
  }
  const url = `http://${urlHost(config.http.host)}:${httpPort}${basePath.slice(0, -1)}`;
  log.info({ smtpPort, httpPort, smtp: `${config.smtp.host}:${smtpPort}`, ...(config.pop3 && { pop3Port, pop3: `${config.pop3.host}:${pop3Port}` }), ...(config.imap && { imapPort, imap: `${config.imap.host}:${imapPort}` }), url, db: database.name, durability: config.durability }, 'kotak listening');
  if (config.spamassassin) log.info({ spamd: describeSpamdAddress(config.spamassassin), maxBytes: config.spamassassinMaxSize }, 'spam check through spamd');
  if (httpAccess.auth) log.info({ users: httpAccess.users, tokens: httpAccess.tokens.length }, 'HTTP authentication required');
  for (const [fields, message] of exposureWarnings(config, config, httpAccess)) log.warn(fields, message);
  if (config.linkCheckPrivate) log.warn({ linkCheckPrivate: true }, 'the link check may fetch loopback and private addresses (--link-check-private): anyone who can send mail here can make Kotak request URLs on its network');

  let stopping: Promise<void> | null = null;
  return {
    smtpPort,
    pop3Port,
    imapPort,
    httpPort,
    url,
    stop() {
      stopping ??= (async () => {
        // Intake first, so that nothing new arrives; then what serves reads; storage last.
        await smtp.close();
        await pop3?.close();
        await imap?.close();
        await live.close();
        await mailpitEvents.close();
        waiters.close();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await retention.stop();
        await relay?.queue.close();
        // After everything that changes messages has stopped (their events are enqueued), before the database closes.
        await webhooks?.stop();
        await database.close();
        await parser.close();
        await verifier.close();
        stopCounting();
        log.info('kotak stopped');
      })();
      return stopping;
    },
  };
}

/**
 * Webhooks for this database: the body format chosen by --webhook-format, the outbox, this node's
 * bus (its own changes) and the cluster bus (any node's new message wakes the dispatcher).
 */
function createAppWebhooks(config: Config, deps: { database: Database; bus: EventBus; store: MessageStore; log: Logger; metrics: WebhookMetrics }): Webhooks {
  const { database } = deps;
  const buildBody: WebhookBodyBuilder = config.webhookFormat === 'mailpit' ? createMailpitBody(deps.store) : createKotakBody();
  return createWebhooks(
    {
      urls: config.webhook, events: config.webhookEvents, secret: config.webhookSecret, timeoutMs: config.webhookTimeout,
      retryForMs: config.webhookRetryFor, pollEveryMs: database.webhookPollMs, userAgent: `Kotak/${VERSION}`,
    },
    { store: database.webhooks, buildBody, bus: deps.bus, clusterBus: database.bus, log: deps.log.child({ component: 'webhooks' }), metrics: deps.metrics },
  );
}

/** With many nodes, the webhook dispatcher's look for what other nodes enqueued (and leases that lapsed). */
const PG_WEBHOOK_POLL_MS = 2000;

/**
 * The database behind this node and what depends on which one it is: SQLite (one process, files
 * beside it), or PostgreSQL shared by many nodes (issue 20), where events cross nodes through the
 * database, relay jobs are leased, and periodic work runs on one node at a time.
 */
interface Database {
  readonly store: MessageStore;
  readonly relay: RelayStore;
  /** The webhook outbox (issue 22): SQLite's in the store's file, or PostgreSQL's with this node's leases. */
  readonly webhooks: WebhookStore;
  /** With many nodes: how often the webhook dispatcher looks for deliveries other nodes enqueued; null: never needed. */
  readonly webhookPollMs: number | null;
  /** Where large messages are received (a NewMessage's `spooled`); null: held in memory. */
  readonly spool: Spool | null;
  /** False while new mail must be refused for lack of disk. */
  readonly hasRoom: () => Promise<boolean>;
  /** What consumers listen on: every node's events (or this node's, when it is the only one). */
  readonly bus: EventBus;
  /** Periodic work that one node at a time must do (retention); absent: run it here. */
  readonly exclusive?: (work: () => Promise<void>) => Promise<unknown>;
  /** Another node's news that relay jobs may be due. */
  readonly wakeOn?: (wake: () => void) => () => void;
  /** How the log names it: the path, or the URL without its password. */
  readonly name: string;
  /** The database's size in bytes, for the metrics (null: not known). */
  readonly sizeBytes: () => Promise<number | null>;
  close(): Promise<void>;
}

async function openSqliteDatabase(config: Config, bus: EventBus, log: Logger): Promise<Database> {
  const store = await openSqliteStore(config.db, { log: log.child({ component: 'store' }), minFreeBytes: config.minFreeDisk, syncCommits: config.durability === 'full' }).catch((err: unknown) => {
    // The store names the path and the cause; the person reading it set the path with --db.
    throw isKotakError(err) && err.code === 'database_unusable' ? new KotakError(err.code, `--db ${err.message}`, { cause: err }) : err;
  });
  return { store, relay: store.relay, webhooks: store.webhooks, webhookPollMs: null, spool: store.spool, hasRoom: () => store.space.hasRoom(), bus, name: config.db, close: () => store.close(), sizeBytes: () => sqliteFileBytes(config.db) };
}

async function openPostgresDatabase(config: Config, localBus: EventBus, log: Logger, onListenerError: (err: unknown, name: string) => void): Promise<Database> {
  // Loaded only here: a SQLite user never loads the PostgreSQL driver.
  const [{ openPostgresStore }, { openPool, redactUrl }, { createPgRelayStore }, { createPgWebhookStore }, { createSingletonWork }, { createPgEventBridge }, { newNodeId }] = await Promise.all([
    import('./store/pg/message-store.js'),
    import('./store/pg/connection.js'),
    import('./store/pg/relay-store.js'),
    import('./store/pg/webhook-store.js'),
    import('./store/pg/singleton-work.js'),
    import('./live/pg-events.js'),
    import('./node-id.js'),
  ]);
  const name = redactUrl(config.db);
  const storeLog = log.child({ component: 'store' });
  // Migrates (under an advisory lock: nodes starting together migrate once), then serves.
  const store = await openPostgresStore(config.db, { log: storeLog });
  // The node's own connections: the listening session, the periodic work's lock, relay leases.
  const pool = openPool(config.db, { log: storeLog, max: 4 });
  const nodeId = newNodeId();
  const relay = createPgRelayStore({
    // Renewed every third of its length while a delivery runs.
    pool, nodeId, leaseMs: config.relayLease, renewEveryMs: Math.floor(config.relayLease / 3),
    onRenewError: (err) => log.warn({ err, component: 'relay' }, 'could not renew relay leases; another node may take these jobs over'),
  });
  const webhooks = createPgWebhookStore({
    // --webhook-lease: renewed every third of it while the POST runs; a node that died leaves the endpoint's head to another after it.
    pool, nodeId, leaseMs: config.webhookLease, renewEveryMs: Math.floor(config.webhookLease / 3),
    onRenewError: (err) => log.warn({ err, component: 'webhooks' }, 'could not renew webhook leases; another node may take these deliveries over'),
  });
  const bus = createEventBus(onListenerError);
  const bridge = createPgEventBridge({ pool, localBus, clusterBus: bus, messages: store, relay, nodeId, log: log.child({ component: 'nodes' }) });
  const retentionLock = createSingletonWork({ pool, name: 'retention', log: log.child({ component: 'retention' }) });
  // Large messages are received into files on this node, then copied into the database; what a
  // killed Kotak left there is removed first.
  const swept = await sweepStaleSpoolDirs(tmpdir());
  if (swept > 0) log.info({ directories: swept }, 'removed the spool directories of Kotak processes that are gone');
  const spoolDir = await makeSpoolDir(tmpdir());
  const spool = openSpool(spoolDir, DEFAULT_RAW_FILE_MIN_BYTES);
  const close = async () => {
    await bridge.stop();
    await retentionLock.close();
    relay.close();
    webhooks.close();
    await pool.end();
    await store.close();
    await rm(spoolDir, { recursive: true, force: true });
  };
  try {
    await bridge.start();
  } catch (err) {
    await close().catch(() => undefined);
    throw new KotakError('database_unusable', `--db ${name}: cannot listen for other nodes' events: ${(err as Error).message}`, { cause: err });
  }
  log.info({ db: name, nodeId }, 'PostgreSQL store: events, relay jobs and retention shared with every node on this database');
  return {
    store, relay, webhooks, spool, bus, name, close,
    webhookPollMs: PG_WEBHOOK_POLL_MS,
    // The PostgreSQL server's disk is not this node's to watch.
    hasRoom: async () => true,
    exclusive: (work) => retentionLock.runIfHolder(work),
    sizeBytes: async () => Number((await pool.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes')).rows[0]?.bytes ?? 0),
    wakeOn: (wake) => bus.on('relay:updated', wake),
  };
}
