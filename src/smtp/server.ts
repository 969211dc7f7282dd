/**
 * The catching SMTP server: smtp-server with Kotak's hooks. It accepts any sender and recipient
 * (except addresses with control characters), reads DATA within the size limit (into memory, or a
 * spool file for a large message: ./message-data.ts), notes bare line endings, and answers 250
 * only after `deliver` has committed the message, with its id in the reply. Hostile clients meet connection and rate limits (./client-limits.ts), an idle
 * timeout, a cap on the session's length and limits on command lines.
 */
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { SMTPServerOptions, SMTPServerSession, SMTPServerDataStream } from 'smtp-server';
import { hasControlCharacter } from './address-check.js';
import { ClientLimits, type ClientLimitsConfig } from './client-limits.js';
import { afterChaos, type ChaosGate, type ChaosOutcome } from './chaos.js';
import { chaosConnectionOf, KotakSmtpServer, sessionUser, type StressTimeouts } from './connection.js';
import type { ChaosFacts } from '../chaos/matcher.js';
import type { ChaosStage } from '../chaos/rules.js';
import { IntakeBudget } from './intake-budget.js';
import { LineEndingWatch } from './line-endings.js';
import { MessageData } from './message-data.js';
import { isKotakError, smtpError } from '../errors.js';
import type { Envelope, SmtpWarning, SpooledRaw } from '../mail/types.js';
import type { Spool } from '../store/spool.js';
import type { CredentialStore } from '../auth/htpasswd.js';
import type { TlsMaterial } from './tls.js';
import { countSocket } from '../metrics/connections.js';
import type { SmtpMetrics } from '../metrics/types.js';

export type SmtpAuthMode = { readonly mode: 'off' } | { readonly mode: 'any' } | { readonly mode: 'file'; readonly path: string };

export interface SmtpConfig {
  readonly host: string;
  readonly port: number;
  /** The name in the greeting and EHLO reply. */
  readonly hostname: string;
  readonly maxMessageSize: number;
  readonly maxRecipients: number;
  readonly requireTls: boolean;
  /** TLS from the first byte (port 465 style, RFC 8314) instead of STARTTLS; needs `deps.tls`. */
  readonly implicitTls?: boolean;
  /** Message bytes held in memory across all connections before reading pauses (default 32 MB). */
  readonly intakeBudgetBytes?: number;
  /** Connections at once and rates, in total and per client address (default: none). */
  readonly clientLimits?: ClientLimitsConfig;
  /** How long the client may stay silent when it owes a command or data (default 5 min, RFC 5321 4.5.3.2). */
  readonly idleTimeoutMs?: number;
  /** The longest a whole session may last, however busy the client is (0 or absent: no limit). */
  readonly sessionTimeoutMs?: number;
  /** The timeouts under pressure (80% of clientLimits.maxConnections open); default 10 s per line, 1 min per session. */
  readonly stress?: StressTimeouts;
}

export interface SmtpDeps {
  /** Stores the message durably and returns its id; rejects when it could not. */
  /** Resolves with the ids of the stored copies (one per mailbox), all named in the 250. */
  readonly deliver: (raw: Buffer | SpooledRaw, envelope: Envelope) => Promise<readonly string[]>;
  /** Where messages reaching its threshold are received instead of memory; absent or null: all in memory. */
  readonly spool?: Spool | null;
  readonly auth: SmtpAuthMode;
  /** Present when auth mode is 'file'. */
  readonly credentials: CredentialStore | null;
  /** Present when TLS is on: STARTTLS is then advertised (or the listener speaks TLS from the first byte). */
  readonly tls: TlsMaterial | null;
  readonly log: Logger;
  /** False while the disk is too full for new mail: MAIL is then refused with 452 4.3.1. */
  readonly hasRoom?: () => Promise<boolean>;
  /** Chaos rules (src/smtp/chaos.ts); absent or null: none. */
  readonly chaos?: ChaosGate | null;
  /** Counts connections, messages, refusals and the DATA → 250 time (src/metrics/); absent: nothing counted. */
  readonly metrics?: SmtpMetrics;
}

export interface RunningSmtpServer {
  listen(): Promise<number>;
  close(): Promise<void>;
}

function envelopeOf(session: SMTPServerSession, smtpWarnings: readonly SmtpWarning[]): Envelope {
  return {
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
    clientAddress: session.remoteAddress,
    heloName: session.hostNameAppearsAs ?? '',
    user: sessionUser(session),
    tls: Boolean(session.secure),
    ...(smtpWarnings.length > 0 ? { smtpWarnings } : {}),
  };
}

/**
 * The text of the 250 for stored copies: every id, space-separated, while the reply line stays
 * within RFC 5321's 512 octets (4.5.3.1.5); past that, the ids that fit and how many more (a
 * message routed to hundreds of mailboxes). The first id always comes first.
 */
function queuedText(ids: readonly string[]): string {
  // "250 2.0.0 " before the text and CRLF after it.
  const room = 512 - '250 2.0.0 '.length - 2;
  let text = `Ok: queued as ${ids[0] ?? ''}`;
  for (let i = 1; i < ids.length; i++) {
    const more = ` (+${ids.length - i} more)`;
    const next = `${text} ${ids[i]}`;
    // Room is kept for the "more" note unless this is the last id.
    if (next.length + (i === ids.length - 1 ? 0 : more.length) > room) return `${text}${more}`;
    text = next;
  }
  return text;
}

/**
 * See IntakeBudget: bounds memory when many large messages arrive at once. 32 MB holds a 4 MB
 * store batch several times over; at 1 MB × 50 connections the peak RSS was 325 MB with it and
 * 363 MB with 64 MB, at the same throughput (bench/ingest.ts).
 */

const DEFAULT_INTAKE_BUDGET_BYTES = 32 * 1024 * 1024;
const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
/** Postfix's stress-mode smtpd_timeout is 10 s; the session cap is ours (Postfix has none). */
const DEFAULT_STRESS: StressTimeouts = { lineTimeoutMs: 10_000, sessionTimeoutMs: 60_000 };
const NO_CLIENT_LIMITS: ClientLimitsConfig = { maxConnections: 0, maxConnectionsPerClient: 0, connectionRate: 0, messageRate: 0 };

export function createSmtpServer(config: SmtpConfig, deps: SmtpDeps): RunningSmtpServer {
  const { log } = deps;
  const gate = deps.chaos ?? null;

  /**
   * Chaos at a hook's stage: `proceed` runs unless a rule answered (its reply goes to `refuse`)
   * or dropped the connection. Without rules, `proceed` runs at once.
   */
  const withChaos = (stage: ChaosStage, session: SMTPServerSession, facts: ChaosFacts, refuse: (err: Error) => void, proceed: () => void, dropped?: () => void): void => {
    const connection = gate ? chaosConnectionOf(session) : undefined;
    const chaos = gate && connection ? gate.at(stage, connection, facts) : null;
    if (!chaos) return proceed();
    afterChaos(chaos, (outcome: ChaosOutcome) => {
      if (outcome.kind === 'continue') proceed();
      else if (outcome.kind === 'reply') refuse(outcome.error);
      else dropped?.();
    });
  };
  /** What chaos knows from MAIL on: `recipients` as the stage sees them. */
  const factsOf = (session: SMTPServerSession, from: string, recipients: readonly string[]): ChaosFacts => {
    const user = sessionUser(session);
    return { client: session.remoteAddress, user, from, ...(gate && recipients.length > 0 ? { recipients: gate.recipients(recipients, user) } : {}) };
  };
  const budget = new IntakeBudget(config.intakeBudgetBytes ?? DEFAULT_INTAKE_BUDGET_BYTES);
  const limits = new ClientLimits(config.clientLimits ?? NO_CLIENT_LIMITS);
  const authOn = deps.auth.mode !== 'off';
  const implicitTls = Boolean(config.implicitTls && deps.tls);
  const disabledCommands = [...(authOn ? [] : ['AUTH']), ...(deps.tls && !implicitTls ? [] : ['STARTTLS'])];

  const options: SMTPServerOptions = {
    name: config.hostname,
    // smtp-server greets with "220 <name> ESMTP <banner>".
    banner: 'Kotak ready',
    size: config.maxMessageSize,
    rejectOversized: true,
    disableReverseLookup: true,
    socketTimeout: config.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    hideENHANCEDSTATUSCODES: false,
    hideDSN: true,
    hideREQUIRETLS: true,
    disabledCommands,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !authOn,
    // A sandbox on loopback: AUTH over plaintext is fine unless the operator asked for TLS.
    allowInsecureAuth: !config.requireTls,
    logger: false,
    ...(deps.tls ? { key: deps.tls.key, cert: deps.tls.cert } : {}),
    // Implicit TLS: smtp-server completes the handshake before the connection (and our admission)
    // exists. maxClients bounds those pending handshakes (our init() replaces its other use).
    ...(implicitTls ? { secure: true, maxClients: config.clientLimits?.maxConnections || undefined } : {}),

    onAuth(auth, session, callback) {
      const username = auth.username ?? '';
      if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') {
        callback(smtpError('auth_failed', 'Authentication mechanism not supported'));
        return;
      }
      const authenticate = (): void => {
        if (deps.auth.mode === 'any') {
          callback(null, { user: username });
          return;
        }
        const password = auth.password ?? '';
        const client = session.remoteAddress;
        // A client past its failed-login limit is refused before any hash is computed: guessing
        // costs the guesser (a new connection per try), not the server. 421 closes the connection.
        const refusal = limits.admitAuth(client);
        if (refusal) {
          log.info({ user: username, client, limit: refusal.limit }, 'smtp authentication refused');
          callback(smtpError('client_limit', refusal.text));
          return;
        }
        (deps.credentials ? deps.credentials.verify(username, password) : Promise.resolve(false)).then(
          (ok) => {
            if (ok) {
              limits.cancelAuthFailure(client);
              callback(null, { user: username });
              return;
            }
            // The username is the client's claim; the password is never logged.
            log.info({ user: username, client }, 'smtp authentication failed');
            callback(smtpError('auth_failed', 'Authentication credentials invalid'));
          },
          (err: unknown) => {
            // Not checked, so not a wrong password.
            limits.cancelAuthFailure(client);
            if (isKotakError(err) && err.code === 'auth_unavailable') {
              log.info({ user: username, client, reason: err.message }, 'smtp authentication deferred');
              callback(smtpError('auth_unavailable', 'Temporary authentication failure, try again later'));
              return;
            }
            callback(err instanceof Error ? err : new Error(String(err)));
          },
        );
      };
      withChaos('auth', session, { client: session.remoteAddress, user: username }, callback, authenticate);
    },

    onMailFrom(address, session, callback) {
      if (config.requireTls && !session.secure) {
        callback(smtpError('tls_required', 'Must issue a STARTTLS command first'));
        return;
      }
      // Decoding (IDNA) can put into an address what the command line did not carry.
      if (hasControlCharacter(address.address)) {
        callback(smtpError('bad_address', 'Address contains control characters'));
        return;
      }
      const admit = (): void => withChaos('mail', session, factsOf(session, address.address, []), callback, admitted);
      const admitted = (): void => {
        const refusal = limits.admitMessage(session.remoteAddress);
        if (refusal) {
          log.info({ client: session.remoteAddress, limit: refusal.limit }, 'smtp mail refused');
          callback(smtpError('client_limit', refusal.text));
          return;
        }
        callback();
      };
      if (!deps.hasRoom) return admit();
      // Refused at MAIL, before the client sends the message, as Postfix does below queue_minfree.
      deps.hasRoom().then(
        (room) => {
          if (room) return admit();
          log.warn({ client: session.remoteAddress }, 'smtp mail refused: free disk space below --min-free-disk');
          callback(smtpError('insufficient_storage', 'Insufficient system storage'));
        },
        (err: unknown) => {
          // Not knowing the free space is no reason to refuse: storing will say if it fails.
          log.warn({ err }, 'could not read the free disk space');
          admit();
        },
      );
    },

    onRcptTo(address, session, callback) {
      if (hasControlCharacter(address.address)) {
        callback(smtpError('bad_address', 'Address contains control characters'));
        return;
      }
      if (session.envelope.rcptTo.length >= config.maxRecipients) {
        callback(smtpError('too_many_recipients', `Too many recipients (at most ${config.maxRecipients} per message)`));
        return;
      }
      const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      withChaos('rcpt', session, factsOf(session, from, [address.address]), callback, () => callback());
    },

    onData(stream: SMTPServerDataStream, session, callback) {
      const data = new MessageData(stream, budget, deps.spool ?? null);
      const lineEndings = new LineEndingWatch();
      stream.on('data', (chunk: Buffer) => {
        // Past the limit nothing more is kept: smtp-server drains the rest and answers 552 5.3.4.
        if (stream.sizeExceeded) return data.drop();
        lineEndings.feed(chunk);
        data.add(chunk);
      });
      // The bytes stay counted (or spooled) until the message is stored or refused. 'close'
      // follows every 'end', so it lets go only of a transfer that never ended (the client went away).
      let ended = false;
      stream.on('close', () => {
        if (!ended) void data.discard();
      });
      stream.on('end', () => {
        ended = true;
        const endedAt = performance.now();
        deps.metrics?.messageReceived();
        if (stream.sizeExceeded) {
          void data.discard();
          callback(smtpError('message_too_big', `Message exceeds the limit of ${config.maxMessageSize} bytes`));
          return;
        }
        const envelope = envelopeOf(session, lineEndings.warnings());
        const size = data.size;
        const refuse = (err: Error) => {
          void data.discard();
          callback(err);
        };
        const store = (): void => {
          data
            .finish()
            .then((raw) => deps.deliver(raw, envelope))
            .then(
              (ids) => {
                void data.discard();
                deps.metrics?.replied((performance.now() - endedAt) / 1000);
                // Every copy's id: `queued as <first id>` still reads as before.
                callback(null, queuedText(ids));
              },
              (err: unknown) => {
                void data.discard();
                log.error({ err, from: envelope.mailFrom, rcpts: envelope.rcptTo.length, bytes: size }, 'storing a message failed');
                callback(smtpError('storage_failed', 'Message not stored, try again later'));
              },
            );
        };
        // A drop leaves the message unstored and unanswered; its bytes are let go here.
        withChaos('end', session, factsOf(session, envelope.mailFrom, envelope.rcptTo), refuse, store, () => void data.discard());
      });
    },
  };

  const server = new KotakSmtpServer(options, { limits, sessionTimeoutMs: config.sessionTimeoutMs ?? 0, stress: config.stress ?? DEFAULT_STRESS, log, chaos: gate, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
  server.server.on('connection', (socket: Socket) => countSocket(deps.metrics?.connections, socket));
  // smtp-server re-emits its listener's errors here too. Until listen() has succeeded, a failure
  // to listen (port in use) belongs to listen()'s caller, who reports it in one line; logging it
  // here as well put a JSON stack trace before that line.
  let listening = false;
  server.on('error', (err: Error) => {
    if (listening) log.warn({ err }, 'smtp connection error');
  });

  return {
    listen() {
      return new Promise((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.server.off('error', reject);
          listening = true;
          resolve((server.server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
