/**
 * One POP3 conversation as a state machine (RFC 1939 with CAPA from RFC 2449, STLS from
 * RFC 2595 and AUTH PLAIN from RFC 5034): a command line in, the reply out, plus what the
 * connection should do next (close, start TLS). It owns no socket and no timer, so every edge
 * can be reached by feeding lines; src/pop3/server.ts does the I/O.
 *
 * States: AUTHORIZATION → (USER/PASS or AUTH PLAIN) → TRANSACTION → (QUIT) → UPDATE. Deletion
 * marks live here and reach the store only in UPDATE; a dropped connection or a timeout never
 * gets there, so nothing is deleted then (RFC 1939 section 6).
 */
import type { Logger } from 'pino';
import type { CredentialCheck } from '../access/credentials.js';
import type { Maildrop, MaildropSource } from '../access/maildrop.js';
import { isKotakError } from '../errors.js';
import { err, errFor, headerAndFirstLines, messageReply, multiline, ok, type ReplyChunk } from './replies.js';

export type SessionState = 'authorization' | 'transaction' | 'update' | 'closed';

export interface Outcome {
  readonly reply: readonly ReplyChunk[];
  /** What the connection does once the reply is sent. */
  readonly then?: 'close' | 'start-tls';
}

export interface SessionLimits {
  /** Unknown, misplaced or malformed commands (and over-long lines) before the connection is closed. */
  readonly maxBadCommands: number;
  /** Failed logins before the connection is closed. */
  readonly maxAuthFailures: number;
  /** Pause before answering a failed login, to slow down guessing. */
  readonly authFailureDelayMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = { maxBadCommands: 10, maxAuthFailures: 3, authFailureDelayMs: 500 };

/** A command line's longest, CRLF included (RFC 2449 section 4). */
export const MAX_COMMAND_OCTETS = 255;
/**
 * AUTH lines and SASL responses may be longer: a long user name and password in base64 do not
 * fit in 255 octets, and RFC 5034 section 4 lets the response exceed the command limit.
 */
export const MAX_SASL_OCTETS = 4096;

export interface SessionDeps {
  readonly credentials: CredentialCheck;
  readonly maildrops: MaildropSource;
  readonly log: Logger;
  readonly limits: SessionLimits;
  /** TLS is configured and this connection is not encrypted yet: STLS is offered. */
  readonly tlsAvailable: boolean;
  readonly sleep?: (ms: number) => Promise<void>;
}

const GREETING = ok('Kotak POP3 ready');
const NO_SUCH_MESSAGE = err('no such message');

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What a user name looks like in a log line: the client's claim, bounded. */
const loggedUser = (user: string): string => (user.length > 64 ? `${user.slice(0, 64)}…` : user);

export class Pop3Session {
  #state: SessionState = 'authorization';
  #tlsAvailable: boolean;
  /** The name given by USER, waiting for PASS. */
  #user: string | null = null;
  /** AUTH PLAIN sent without an initial response: the next line is the SASL response. */
  #awaitingSaslResponse = false;
  #badCommands = 0;
  #authFailures = 0;
  #maildrop: Maildrop | null = null;
  /** Zero-based indexes of the snapshot marked by DELE. */
  readonly #deleted = new Set<number>();
  readonly #deps: SessionDeps;
  readonly #log: Logger;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
    this.#log = deps.log;
    this.#tlsAvailable = deps.tlsAvailable;
    this.#sleep = deps.sleep ?? wait;
  }

  get state(): SessionState {
    return this.#state;
  }

  greeting(): string {
    return GREETING;
  }

  /** The connection is now encrypted (after STLS): the client starts over with CAPA and a login. */
  tlsStarted(): void {
    this.#tlsAvailable = false;
    this.#user = null;
  }

  /** A command line over the RFC 2449 limit, or any line over what the connection buffers. */
  lineTooLong(): Outcome {
    this.#awaitingSaslResponse = false; // a SASL exchange does not survive a refused line
    return this.#bad(`line too long (at most ${MAX_COMMAND_OCTETS} octets)`);
  }

  /** One line from the client, without its CRLF. Never throws: a failure becomes a `-ERR` reply. */
  async handle(line: Buffer): Promise<Outcome> {
    if (this.#state === 'closed' || this.#state === 'update') return { reply: [], then: 'close' };
    try {
      if (this.#awaitingSaslResponse) {
        this.#awaitingSaslResponse = false;
        return await this.#saslResponse(line.toString('utf8'));
      }
      return await this.#command(line);
    } catch (error) {
      this.#log.error({ err: error }, 'pop3 command failed');
      return { reply: [errFor('internal', 'the server could not do that, try again later')] };
    }
  }

  async #command(line: Buffer): Promise<Outcome> {
    const text = line.toString('utf8');
    const space = text.indexOf(' ');
    const keyword = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    const argument = space < 0 ? '' : text.slice(space + 1);
    if (keyword !== 'AUTH' && line.length + 2 > MAX_COMMAND_OCTETS) return this.lineTooLong();

    if (keyword === 'CAPA') return { reply: [this.#capabilities()] };
    if (keyword === 'QUIT') return this.#quit();
    if (this.#state === 'authorization') {
      switch (keyword) {
        case 'USER':
          return this.#userCommand(argument);
        case 'PASS':
          return this.#passCommand(argument);
        case 'AUTH':
          return this.#auth(argument);
        case 'STLS':
          return this.#stls();
      }
    } else {
      const maildrop = this.#maildrop!;
      switch (keyword) {
        case 'STAT':
          return this.#noArguments(argument) ?? { reply: [ok(this.#totals().join(' '))] };
        case 'LIST':
          return this.#listing(argument, 'LIST', (i) => String(maildrop.messages[i]!.size));
        case 'UIDL':
          return this.#listing(argument, 'UIDL', (i) => maildrop.messages[i]!.id);
        case 'RETR':
          return this.#retrieve(argument);
        case 'TOP':
          return this.#top(argument);
        case 'DELE':
          return this.#dele(argument);
        case 'RSET':
          return this.#noArguments(argument) ?? this.#reset();
        case 'NOOP':
          return this.#noArguments(argument) ?? { reply: [ok('nothing done')] };
      }
    }
    return KNOWN_COMMANDS.has(keyword) ? this.#bad(`${keyword} is not valid in this state`) : this.#bad('unknown command');
  }

  #capabilities(): string {
    const inAuthorization = this.#state === 'authorization';
    return multiline('capability list follows', [
      'TOP',
      'UIDL',
      ...(inAuthorization ? ['USER', 'SASL PLAIN'] : []),
      'RESP-CODES',
      'AUTH-RESP-CODE',
      'PIPELINING',
      ...(inAuthorization && this.#tlsAvailable ? ['STLS'] : []),
      'IMPLEMENTATION Kotak',
    ]);
  }

  // AUTHORIZATION

  #userCommand(name: string): Outcome {
    if (name === '') return this.#bad('USER needs a name');
    this.#user = name;
    return { reply: [ok('send PASS')] };
  }

  async #passCommand(password: string): Promise<Outcome> {
    const user = this.#user;
    if (user === null) return this.#bad('send USER first');
    this.#user = null;
    return this.#login(user, password);
  }

  async #auth(argument: string): Promise<Outcome> {
    const [mechanism = '', initial, ...extra] = argument.split(' ');
    // Before CAPA existed, clients asked for the mechanisms with a bare AUTH.
    if (mechanism === '') return { reply: [multiline('SASL mechanisms follow', ['PLAIN'])] };
    if (mechanism.toUpperCase() !== 'PLAIN') return { reply: [err('unsupported SASL mechanism (only PLAIN)')] };
    if (extra.length > 0) return this.#bad('AUTH PLAIN takes one initial response');
    if (initial === undefined) {
      this.#awaitingSaslResponse = true;
      return { reply: ['+ \r\n'] };
    }
    return this.#saslResponse(initial);
  }

  /** RFC 4616: base64 of `authzid NUL authcid NUL password`; "=" is an empty response, "*" cancels. */
  async #saslResponse(response: string): Promise<Outcome> {
    if (response === '*') return { reply: [err('authentication cancelled')] };
    const encoded = response === '=' ? '' : response;
    if (encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return this.#bad('invalid base64 in SASL response');
    const parts = Buffer.from(encoded, 'base64').toString('utf8').split('\0');
    if (parts.length !== 3) return this.#authFailed('', 'malformed PLAIN response');
    const [authzid, user, password] = parts as [string, string, string];
    // No proxy logins: one may only act as oneself.
    if (authzid !== '' && authzid !== user) return this.#authFailed(user, 'authorization identity differs from the user');
    return this.#login(user, password);
  }

  async #login(user: string, password: string): Promise<Outcome> {
    let verified: boolean;
    try {
      verified = await this.#deps.credentials.verify(user, password);
    } catch (error) {
      // Too many password checks waiting (src/auth/verifier.ts): not a failed login, come back later.
      if (!isKotakError(error) || error.code !== 'auth_unavailable') throw error;
      this.#log.info({ user: loggedUser(user), reason: error.message }, 'pop3 authentication deferred');
      return { reply: [errFor('auth_unavailable', 'authentication is busy, try again later')] };
    }
    if (!verified) return this.#authFailed(user, 'wrong user name or password');
    let maildrop: Maildrop;
    try {
      maildrop = await this.#deps.maildrops.open(user);
    } catch (error) {
      // The password was right, so this is no failed login (no delay, not counted): the name
      // simply has no mailbox here. [SYS/PERM] says so; the client may log in as another user.
      if (isKotakError(error) && error.code === 'no_maildrop') {
        this.#log.info({ user: loggedUser(user), reason: error.message }, 'pop3 login has no maildrop');
        return { reply: [errFor('no_maildrop', error.message)] };
      }
      this.#log.error({ err: error, user: loggedUser(user) }, 'pop3 could not open the maildrop');
      return { reply: [errFor('storage_failed', 'the maildrop cannot be opened now, try again later')] };
    }
    this.#maildrop = maildrop;
    this.#state = 'transaction';
    const [count, octets] = this.#totals();
    this.#log.info({ user: loggedUser(user), mailbox: maildrop.mailbox, messages: count, octets }, 'pop3 login');
    return { reply: [ok(this.#maildropStatus())] };
  }

  async #authFailed(user: string, reason: string): Promise<Outcome> {
    this.#authFailures += 1;
    // The user name is the client's claim; the password never appears in a log.
    this.#log.info({ user: loggedUser(user), reason, failures: this.#authFailures }, 'pop3 authentication failed');
    await this.#sleep(this.#deps.limits.authFailureDelayMs);
    if (this.#authFailures >= this.#deps.limits.maxAuthFailures) {
      this.#state = 'closed';
      return { reply: [errFor('auth_failed', 'too many failed logins, closing')], then: 'close' };
    }
    return { reply: [errFor('auth_failed', 'authentication failed')] };
  }

  #stls(): Outcome {
    if (!this.#tlsAvailable) return this.#bad('STLS is not available');
    this.#user = null;
    return { reply: [ok('begin TLS negotiation')], then: 'start-tls' };
  }

  // TRANSACTION

  /** [messages, octets] not marked as deleted. */
  #totals(): [number, number] {
    let count = 0;
    let octets = 0;
    this.#maildrop!.messages.forEach((m, i) => {
      if (this.#deleted.has(i)) return;
      count += 1;
      octets += m.size;
    });
    return [count, octets];
  }

  #maildropStatus(): string {
    const [count, octets] = this.#totals();
    return `maildrop has ${count} message${count === 1 ? '' : 's'} (${octets} octets)`;
  }

  #noArguments(argument: string): Outcome | undefined {
    return argument === '' ? undefined : this.#bad('this command takes no argument');
  }

  /**
   * A message number argument → its zero-based index, or the reply refusing it. A number outside
   * the maildrop or marked deleted is a refused request, not a protocol error.
   */
  #messageIndex(argument: string): number | Outcome {
    if (!/^\d{1,9}$/.test(argument)) return this.#bad('a message number is needed');
    const index = Number(argument) - 1;
    if (index < 0 || index >= this.#maildrop!.messages.length) return { reply: [NO_SUCH_MESSAGE] };
    if (this.#deleted.has(index)) return { reply: [err(`message ${argument} is deleted`)] };
    return index;
  }

  #listing(argument: string, command: string, value: (index: number) => string): Outcome {
    if (argument !== '') {
      const index = this.#messageIndex(argument);
      return typeof index === 'number' ? { reply: [ok(`${index + 1} ${value(index)}`)] } : index;
    }
    const lines: string[] = [];
    this.#maildrop!.messages.forEach((_, i) => {
      if (!this.#deleted.has(i)) lines.push(`${i + 1} ${value(i)}`);
    });
    return { reply: [multiline(command === 'LIST' ? this.#maildropStatus() : 'unique-id listing follows', lines)] };
  }

  async #retrieve(argument: string): Promise<Outcome> {
    const index = this.#messageIndex(argument);
    if (typeof index !== 'number') return index;
    const message = this.#maildrop!.messages[index]!;
    const text = await this.#maildrop!.read(message.id);
    if (!text) return { reply: [err(`message ${argument} was deleted meanwhile`)] };
    return { reply: messageReply(`${message.size} octets`, text) };
  }

  async #top(argument: string): Promise<Outcome> {
    const [number = '', lines = '', ...extra] = argument.split(' ');
    if (extra.length > 0 || !/^\d{1,9}$/.test(lines)) return this.#bad('TOP needs a message number and a line count');
    const index = this.#messageIndex(number);
    if (typeof index !== 'number') return index;
    const text = await this.#maildrop!.read(this.#maildrop!.messages[index]!.id);
    if (!text) return { reply: [err(`message ${number} was deleted meanwhile`)] };
    return { reply: messageReply('top of message follows', headerAndFirstLines(text, Number(lines))) };
  }

  #reset(): Outcome {
    this.#deleted.clear();
    return { reply: [ok(this.#maildropStatus())] };
  }

  #dele(argument: string): Outcome {
    const index = this.#messageIndex(argument);
    if (typeof index !== 'number') return index;
    this.#deleted.add(index);
    return { reply: [ok(`message ${argument} deleted`)] };
  }

  // QUIT: AUTHORIZATION ends; TRANSACTION enters UPDATE.

  async #quit(): Promise<Outcome> {
    if (this.#state !== 'transaction') {
      this.#state = 'closed';
      return { reply: [ok('Kotak POP3 signing off')], then: 'close' };
    }
    this.#state = 'update';
    const maildrop = this.#maildrop!;
    const ids = [...this.#deleted].map((i) => maildrop.messages[i]!.id);
    try {
      // Messages someone else deleted meanwhile are simply gone already: QUIT still succeeds.
      const deleted = ids.length > 0 ? await maildrop.expunge(ids) : [];
      if (ids.length > 0) this.#log.info({ marked: ids.length, deleted: deleted.length }, 'pop3 update');
      const [count] = this.#totals();
      return { reply: [ok(`Kotak POP3 signing off (${count} message${count === 1 ? '' : 's'} left)`)], then: 'close' };
    } catch (error) {
      this.#log.error({ err: error, marked: ids.length }, 'pop3 update failed');
      return { reply: [errFor('storage_failed', 'some deleted messages not removed')], then: 'close' };
    } finally {
      this.#state = 'closed';
    }
  }

  #bad(text: string): Outcome {
    this.#badCommands += 1;
    if (this.#badCommands >= this.#deps.limits.maxBadCommands) {
      this.#state = 'closed';
      return { reply: [err(`${text}; too many bad commands, closing`)], then: 'close' };
    }
    return { reply: [err(text)] };
  }
}

/** Commands this server implements somewhere; sent in the wrong state they are refused as such. */
const KNOWN_COMMANDS = new Set(['USER', 'PASS', 'AUTH', 'STLS', 'STAT', 'LIST', 'UIDL', 'RETR', 'TOP', 'DELE', 'RSET', 'NOOP']);
