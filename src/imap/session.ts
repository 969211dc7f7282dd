/**
 * One IMAP conversation (RFC 3501 with the extensions CAPABILITY names): framed commands in,
 * responses out through `send`, plus what the connection does next (close, start TLS). States:
 * not authenticated → (LOGIN, AUTHENTICATE) → authenticated ⇄ (SELECT/EXAMINE, CLOSE/UNSELECT)
 * selected → (LOGOUT) logout. It owns no socket and no timer: src/imap/server.ts does the I/O.
 *
 * Everything a session does runs one step at a time (`#exclusive`): a command, or the news an
 * event brings during IDLE; so sequence numbers never change under a command in progress.
 * Nothing thrown in a command leaves the session: it becomes a tagged NO (or BAD).
 */
import type { Logger } from 'pino';
import type { CredentialCheck } from '../access/credentials.js';
import type { FolderAccess, FolderSource } from '../access/folder-types.js';
import { imapResponseCode, isKotakError } from '../errors.js';
import { VERSION } from '../version.js';
import { expectCount, keyword, text } from './commands/args.js';
import { CommandFailure, ok, type AuthenticatedContext, type Command, type Reply, type SelectedContext, type Send } from './commands/context.js';
import { fetch } from './commands/fetch.js';
import { list, namespace, refuseFolderChange, select, status, subscription } from './commands/folders.js';
import { append, copy, expunge, search, store } from './commands/messages.js';
import type { FolderEvents } from './folder-events.js';
import type { MailboxView } from './mailbox-view.js';
import { ImapParseError, parseCommand, readTag } from './wire/parser.js';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';
export type Then = 'close' | 'start-tls' | undefined;

export interface ImapSessionLimits {
  /** BAD responses (malformed, unknown or misplaced commands, over-long lines) before the connection is closed. */
  readonly maxBadCommands: number;
  /** Failed logins before the connection is closed. */
  readonly maxAuthFailures: number;
  /** Pause before answering a failed login, to slow down guessing. */
  readonly authFailureDelayMs: number;
}

export const DEFAULT_IMAP_LIMITS: ImapSessionLimits = { maxBadCommands: 10, maxAuthFailures: 3, authFailureDelayMs: 500 };

export interface ImapSessionDeps {
  readonly credentials: CredentialCheck;
  readonly folders: FolderSource;
  readonly events: FolderEvents;
  readonly log: Logger;
  readonly limits: ImapSessionLimits;
  /** TLS is configured and this connection is not encrypted yet: STARTTLS is offered. */
  readonly tlsAvailable: boolean;
  /** The client's address and whether it came with TLS (recorded on the messages it appends). */
  readonly client: { readonly address: string; readonly tls: boolean };
  /** APPEND's largest message (--max-message-size), advertised as APPENDLIMIT. */
  readonly maxMessageSize: number;
  /** The newest messages a selected folder opens with (--imap-folder-size). */
  readonly folderSize: number;
  /** Writes to the client, resolving once the socket can take more. */
  readonly send: Send;
  readonly sleep?: (ms: number) => Promise<void>;
}

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const loggedUser = (user: string): string => (user.length > 64 ? `${user.slice(0, 64)}…` : user);

/** Commands after which an EXPUNGE may not be sent (RFC 3501 7.4.1): sequence numbers were just used. */
const NO_EXPUNGE_AFTER = new Set(['FETCH', 'STORE', 'SEARCH']);
/** Commands that read the view's flags or numbers: news is told before they run. */
const READS_VIEW = new Set(['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE']);
const ANY_STATE = new Set(['CAPABILITY', 'NOOP', 'LOGOUT', 'ID']);
const NOT_AUTHENTICATED = new Set(['STARTTLS', 'LOGIN', 'AUTHENTICATE']);
const AUTHENTICATED = new Set(['SELECT', 'EXAMINE', 'CREATE', 'DELETE', 'RENAME', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LIST', 'LSUB', 'STATUS', 'APPEND', 'NAMESPACE', 'ENABLE', 'IDLE']);
const SELECTED = new Set(['CHECK', 'CLOSE', 'UNSELECT', 'EXPUNGE', 'SEARCH', 'FETCH', 'STORE', 'COPY', 'MOVE']);
const UID_COMMANDS = new Set(['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE', 'EXPUNGE']);

export class ImapSession {
  #state: SessionState = 'not-authenticated';
  #tlsAvailable: boolean;
  #secure: boolean;
  #badCommands = 0;
  #authFailures = 0;
  #access: FolderAccess | null = null;
  #view: MailboxView | null = null;
  #unwatch: (() => void) | null = null;
  /** The tag of the IDLE in progress. */
  #idleTag: string | null = null;
  #idlePushQueued = false;
  /** The tag of an AUTHENTICATE waiting for its SASL response line. */
  #saslTag: string | null = null;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #deps: ImapSessionDeps;
  readonly #log: Logger;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(deps: ImapSessionDeps) {
    this.#deps = deps;
    this.#log = deps.log;
    this.#tlsAvailable = deps.tlsAvailable;
    this.#secure = deps.client.tls;
    this.#sleep = deps.sleep ?? wait;
  }

  get state(): SessionState {
    return this.#state;
  }

  greeting(): string {
    return `* OK [CAPABILITY ${this.#capabilities()}] Kotak IMAP ready\r\n`;
  }

  /** The connection is now encrypted (after STARTTLS): a login may follow. */
  tlsStarted(): void {
    this.#tlsAvailable = false;
    this.#secure = true;
  }

  /** Stops hearing events: the connection is gone. */
  closed(): void {
    this.#state = 'logout';
    this.#deselect();
  }

  /** One framed command (or the line an IDLE or AUTHENTICATE waits for). Never throws. */
  handle(bytes: Buffer): Promise<Then> {
    return this.#exclusive(() => this.#handle(bytes));
  }

  /** A command line over the line cap: BAD, tagged when its tag could be read. */
  lineTooLong(head: Buffer): Promise<Then> {
    return this.#exclusive(async () => {
      this.#saslTag = null;
      return this.#bad(readTag(head), 'command line too long (at most 8192 octets outside literals)');
    });
  }

  /** A synchronising literal over its cap: the command is refused before a byte of it was sent. */
  literalRefused(head: Buffer, size: number, cap: number): Promise<Then> {
    return this.#exclusive(async () => {
      const tag = readTag(head) ?? '*';
      const name = head.toString('latin1').split(' ')[1]?.toUpperCase();
      if (name === 'APPEND') {
        await this.#send(`${tag} NO [TOOBIG] the message is ${size} octets; at most ${cap} are accepted (--max-message-size)\r\n`);
        return undefined;
      }
      return this.#bad(tag, `literal too long (${size} octets; at most ${cap} here)`);
    });
  }

  /** The idle timeout struck: the connection says goodbye (an IDLE too ends here). */
  idleTimeout(): Promise<void> {
    return this.#send('* BYE idle for too long, closing connection\r\n');
  }

  /** A method, not a comparison in place: TypeScript narrows the field across awaits that change it. */
  #loggedOut(): boolean {
    return this.#state === 'logout';
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(work);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #send(...chunks: string[]): Promise<void> {
    return this.#deps.send(chunks);
  }

  async #handle(bytes: Buffer): Promise<Then> {
    if (this.#state === 'logout') return 'close';
    if (this.#idleTag !== null) return this.#idleEnded(bytes);
    if (this.#saslTag !== null) {
      const tag = this.#saslTag;
      this.#saslTag = null;
      const then = await this.#reply(tag, await this.#guard(() => this.#saslResponse(bytes.toString('latin1').trim())));
      return this.#loggedOut() ? 'close' : then;
    }
    let command: Command;
    try {
      command = parseCommand(bytes);
    } catch (error) {
      if (error instanceof ImapParseError) return this.#bad(error.tag, error.message);
      throw error;
    }
    const where = this.#allowed(command);
    if (where !== null) return this.#bad(command.tag, where);
    const reply = await this.#guard(async () => {
      // News heard before the command is told first, so it reads current flags and numbers.
      if (this.#view && READS_VIEW.has(command.name)) await this.#tellNews(!(NO_EXPUNGE_AFTER.has(command.name) && !command.uid));
      return this.#run(command);
    });
    if (this.#idleTag !== null || this.#saslTag !== null) return undefined;
    if (this.#view && command.name !== 'LOGOUT') {
      const mayExpunge = !(NO_EXPUNGE_AFTER.has(command.name) && !command.uid);
      const news = await this.#guard(async () => {
        await this.#tellNews(mayExpunge);
        return ok('');
      });
      if (news.status !== 'OK') this.#log.warn({ text: news.text }, 'imap could not send folder news');
    }
    const then = await this.#reply(command.tag, reply);
    if (this.#loggedOut()) return 'close';
    if (command.name === 'STARTTLS' && reply.status === 'OK') return 'start-tls';
    return then;
  }

  async #tellNews(mayExpunge: boolean): Promise<void> {
    if (!this.#view?.hasNews) return;
    const lines = await this.#view.updates(mayExpunge);
    if (lines.length > 0) await this.#deps.send(lines);
  }

  /** Why a command may not run now, or null. */
  #allowed(command: Command): string | null {
    const name = command.name;
    if (command.uid && !UID_COMMANDS.has(name)) return `UID ${name} is not a command`;
    if (ANY_STATE.has(name)) return null;
    if (NOT_AUTHENTICATED.has(name)) return this.#state === 'not-authenticated' ? null : `${name} is only allowed before login`;
    if (AUTHENTICATED.has(name)) return this.#state === 'not-authenticated' ? `${name} needs a login first` : null;
    if (SELECTED.has(name)) {
      if (this.#state === 'not-authenticated') return `${name} needs a login first`;
      return this.#state === 'selected' ? null : `${name} needs a selected folder (SELECT or EXAMINE first)`;
    }
    return `unknown command ${name}`;
  }

  /** Runs a step, turning what it throws into a reply. */
  async #guard(step: () => Promise<Reply>): Promise<Reply> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof CommandFailure) return error.code === undefined ? { status: error.status, text: error.message } : { status: error.status, text: error.message, code: error.code };
      if (isKotakError(error)) {
        this.#log.info({ code: error.code, reason: error.message }, 'imap command refused');
        const code = imapResponseCode(error.code);
        return code === undefined ? { status: 'NO', text: error.message } : { status: 'NO', text: error.message, code };
      }
      this.#log.error({ err: error }, 'imap command failed');
      return { status: 'NO', code: 'SERVERBUG', text: 'the server could not do that, try again later' };
    }
  }

  async #reply(tag: string, reply: Reply): Promise<Then> {
    if (reply.status === 'BAD') return this.#bad(tag, reply.text);
    await this.#send(`${tag} ${reply.status} ${reply.code ? `[${reply.code}] ` : ''}${reply.text}\r\n`);
    return undefined;
  }

  async #bad(tag: string | null, text: string): Promise<Then> {
    this.#badCommands += 1;
    if (this.#badCommands >= this.#deps.limits.maxBadCommands) {
      this.#state = 'logout';
      await this.#send('* BYE too many bad commands, closing connection\r\n', `${tag ?? '*'} BAD ${text}\r\n`);
      return 'close';
    }
    await this.#send(`${tag ?? '*'} BAD ${text}\r\n`);
    return undefined;
  }

  #capabilities(): string {
    const before = this.#state === 'not-authenticated';
    return [
      'IMAP4rev1',
      'LITERAL+',
      ...(before ? ['SASL-IR'] : []),
      'ENABLE',
      'ID',
      'IDLE',
      'NAMESPACE',
      'UIDPLUS',
      'MOVE',
      'UNSELECT',
      'SPECIAL-USE',
      'CHILDREN',
      'BINARY',
      `APPENDLIMIT=${this.#deps.maxMessageSize}`,
      ...(before && this.#tlsAvailable ? ['STARTTLS'] : []),
      ...(before ? ['AUTH=PLAIN'] : []),
    ].join(' ');
  }

  #authenticated(): AuthenticatedContext {
    return { access: this.#access!, send: this.#deps.send, log: this.#log, folderSize: this.#deps.folderSize };
  }

  #selected(): SelectedContext {
    return { ...this.#authenticated(), view: this.#view! };
  }

  async #run(command: Command): Promise<Reply> {
    const args = command.args;
    switch (command.name) {
      case 'CAPABILITY':
        expectCount(args, 0, 'CAPABILITY');
        await this.#send(`* CAPABILITY ${this.#capabilities()}\r\n`);
        return ok('CAPABILITY completed');
      case 'NOOP':
      case 'CHECK':
        expectCount(args, 0, command.name);
        return ok(`${command.name} completed`);
      case 'LOGOUT':
        expectCount(args, 0, 'LOGOUT');
        this.#deselect();
        this.#state = 'logout';
        await this.#send('* BYE Kotak IMAP signing off\r\n');
        return ok('LOGOUT completed');
      case 'ID':
        await this.#send(`* ID ("name" "Kotak" "version" "${VERSION}")\r\n`);
        return ok('ID completed');
      case 'STARTTLS':
        expectCount(args, 0, 'STARTTLS');
        if (!this.#tlsAvailable) throw new CommandFailure('BAD', 'STARTTLS is not available (no --imap-tls, or TLS is on already)');
        return ok('begin TLS negotiation now');
      case 'LOGIN':
        expectCount(args, 2, 'LOGIN user password');
        return this.#login(text(args[0], 'the user name'), text(args[1], 'the password'));
      case 'AUTHENTICATE':
        return this.#authenticate(command);
      case 'ENABLE':
        if (args.length === 0) throw new CommandFailure('BAD', 'ENABLE needs a capability');
        args.forEach((arg) => keyword(arg, 'a capability'));
        // Nothing offered here is ENABLE-able (no CONDSTORE, no UTF8=ACCEPT): none is enabled.
        await this.#send('* ENABLED\r\n');
        return ok('ENABLE completed');
      case 'NAMESPACE':
        return namespace(command, this.#authenticated());
      case 'LIST':
      case 'LSUB':
        return list(command, this.#authenticated());
      case 'STATUS':
        return status(command, this.#authenticated());
      case 'SELECT':
      case 'EXAMINE': {
        this.#deselect();
        const { reply, view } = await select(command, this.#authenticated());
        this.#view = view;
        this.#state = 'selected';
        this.#unwatch = this.#deps.events.watch(view.folder.mailbox, (change) => {
          view.note(change);
          this.#pushDuringIdle();
        });
        return reply;
      }
      case 'CREATE':
      case 'DELETE':
      case 'RENAME':
        return refuseFolderChange(command, this.#authenticated());
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE':
        return subscription(command, this.#authenticated());
      case 'APPEND': {
        const { reply } = await append(command, this.#authenticated());
        return reply;
      }
      case 'IDLE':
        expectCount(args, 0, 'IDLE');
        return this.#idle(command.tag);
      case 'CLOSE':
      case 'UNSELECT': {
        expectCount(args, 0, command.name);
        const reply = command.name === 'CLOSE' ? await expunge(command, this.#selected(), { silent: true }) : ok('UNSELECT completed');
        this.#deselect();
        return reply;
      }
      case 'EXPUNGE':
        return expunge(command, this.#selected(), { silent: false });
      case 'FETCH':
        return fetch(command, this.#selected());
      case 'STORE':
        return store(command, this.#selected());
      case 'SEARCH':
        return search(command, this.#selected());
      case 'COPY':
      case 'MOVE':
        return copy(command, this.#selected());
      default:
        throw new CommandFailure('BAD', `unknown command ${command.name}`);
    }
  }

  #deselect(): void {
    this.#unwatch?.();
    this.#unwatch = null;
    this.#view = null;
    if (this.#state === 'selected') this.#state = 'authenticated';
  }

  // Login

  async #authenticate(command: Command): Promise<Reply> {
    const [mechanism, initial, ...extra] = command.args;
    if (keyword(mechanism, 'a SASL mechanism') !== 'PLAIN') throw new CommandFailure('NO', 'unsupported SASL mechanism (only PLAIN)', 'CANNOT');
    if (extra.length > 0) throw new CommandFailure('BAD', 'AUTHENTICATE PLAIN takes one initial response');
    if (initial === undefined) {
      this.#saslTag = command.tag;
      await this.#send('+ \r\n');
      return ok('');
    }
    return this.#saslResponse(text(initial, 'the initial response'));
  }

  /** RFC 4616 PLAIN: base64 of `authzid NUL authcid NUL password`; "=" is empty, "*" cancels. */
  async #saslResponse(response: string): Promise<Reply> {
    if (response === '*') throw new CommandFailure('BAD', 'authentication cancelled');
    const encoded = response === '=' ? '' : response;
    if (encoded.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) throw new CommandFailure('BAD', 'invalid base64 in SASL response');
    const parts = Buffer.from(encoded, 'base64').toString('utf8').split('\0');
    if (parts.length !== 3) return this.#authFailed('', 'malformed PLAIN response');
    const [authzid, user, password] = parts as [string, string, string];
    if (authzid !== '' && authzid !== user) return this.#authFailed(user, 'authorization identity differs from the user');
    return this.#login(user, password);
  }

  async #login(user: string, password: string): Promise<Reply> {
    let verified: boolean;
    try {
      verified = await this.#deps.credentials.verify(user, password);
    } catch (error) {
      if (!isKotakError(error) || error.code !== 'auth_unavailable') throw error;
      this.#log.info({ user: loggedUser(user), reason: error.message }, 'imap authentication deferred');
      throw new CommandFailure('NO', 'authentication is busy, try again later', 'UNAVAILABLE');
    }
    if (!verified) return this.#authFailed(user, 'wrong user name or password');
    let access: FolderAccess;
    try {
      access = await this.#deps.folders.open(user, { address: this.#deps.client.address, tls: this.#secure });
    } catch (error) {
      // The password was right: no failed login (no delay, not counted), the name has no mailbox.
      if (isKotakError(error) && error.code === 'no_maildrop') {
        this.#log.info({ user: loggedUser(user), reason: error.message }, 'imap login has no mailbox');
        throw new CommandFailure('NO', error.message, 'AUTHORIZATIONFAILED');
      }
      this.#log.error({ err: error, user: loggedUser(user) }, 'imap could not open the folders');
      throw new CommandFailure('NO', 'the folders cannot be opened now, try again later', 'UNAVAILABLE');
    }
    this.#access = access;
    this.#state = 'authenticated';
    this.#log.info({ user: loggedUser(user) }, 'imap login');
    return ok('logged in', `CAPABILITY ${this.#capabilities()}`);
  }

  async #authFailed(user: string, reason: string): Promise<Reply> {
    this.#authFailures += 1;
    // The user name is the client's claim; the password never appears in a log.
    this.#log.info({ user: loggedUser(user), reason, failures: this.#authFailures }, 'imap authentication failed');
    await this.#sleep(this.#deps.limits.authFailureDelayMs);
    if (this.#authFailures >= this.#deps.limits.maxAuthFailures) {
      this.#state = 'logout';
      await this.#send('* BYE too many failed logins, closing connection\r\n');
    }
    return { status: 'NO', code: 'AUTHENTICATIONFAILED', text: 'authentication failed' };
  }

  // IDLE (RFC 2177)

  async #idle(tag: string): Promise<Reply> {
    if (this.#view) {
      const lines = await this.#view.updates(true);
      if (lines.length > 0) await this.#deps.send(lines);
    }
    this.#idleTag = tag;
    await this.#send('+ idling\r\n');
    return ok('');
  }

  async #idleEnded(bytes: Buffer): Promise<Then> {
    const tag = this.#idleTag!;
    this.#idleTag = null;
    if (bytes.toString('latin1').trim().toUpperCase() !== 'DONE') return this.#bad(tag, 'IDLE ends with DONE');
    return this.#reply(tag, ok('IDLE terminated'));
  }

  /** News heard while idling goes out at once (coalesced: one step for a burst of events). */
  #pushDuringIdle(): void {
    if (this.#idleTag === null || this.#idlePushQueued) return;
    this.#idlePushQueued = true;
    void this.#exclusive(async () => {
      this.#idlePushQueued = false;
      if (this.#idleTag === null || !this.#view) return;
      try {
        const lines = await this.#view.updates(true);
        if (lines.length > 0) await this.#deps.send(lines);
      } catch (error) {
        this.#log.warn({ err: error }, 'imap could not send news during IDLE');
      }
    });
  }
}
