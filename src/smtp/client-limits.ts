/**
 * Who may connect and how often, in the manner of Postfix's anvil: connections open at once in
 * total and per client address, and new connections and messages per client address in a fixed
 * window (60 s, anvil_rate_time_unit); and failed AUTH attempts per client address in the same
 * window (Postfix's smtpd_client_auth_rate_limit counts AUTH commands; counting failures leaves a
 * client that logs in correctly alone). Pure bookkeeping with an injectable clock; the SMTP
 * connection asks before it greets, before each MAIL and before each password check, and answers
 * a refusal with 421 4.7.0.
 *
 * Every limit is "0 = none". A refused attempt still counts toward its client's rate, as in anvil,
 * so a client that hammers a full server stays refused until its window ends.
 *
 * Near the connection limit the server is "under pressure" (Postfix's stress mode): the SMTP
 * connection then shortens its timeouts, and the last slots are kept for addresses holding few.
 */

export interface ClientLimitsConfig {
  /** Connections open at once, all clients together. */
  readonly maxConnections: number;
  /** Connections open at once from one client address. */
  readonly maxConnectionsPerClient: number;
  /** New connections from one client address per window. */
  readonly connectionRate: number;
  /** Mail transactions (MAIL FROM) from one client address per window. */
  readonly messageRate: number;
  /** Failed AUTH attempts from one client address per window; the next is refused unchecked (absent: none). */
  readonly authFailureRate?: number;
  /** The rate window; 60 s unless a test says otherwise. */
  readonly windowMs?: number;
}

/** Which limit refused, and the text for the reply and the log. */
export interface LimitRefusal {
  readonly limit: 'connections' | 'connections-per-client' | 'connection-rate' | 'message-rate' | 'auth-failure-rate' | 'reserved-slots';
  readonly text: string;
}

interface ClientState {
  open: number;
  windowStart: number;
  connections: number;
  messages: number;
  authFailures: number;
}

const DEFAULT_WINDOW_MS = 60_000;

/**
 * Pressure, in the manner of Postfix's stress mode: from this share of maxConnections open, the
 * server is under pressure (the SMTP connection shortens its timeouts) and the remaining slots are
 * reserved for client addresses that hold few connections.
 */
const PRESSURE_SHARE = 0.8;
/** Pressure ends only below this share, so the mode (and its log line) does not flap with each connection. */
const PRESSURE_END_SHARE = 0.6;
/** In the reserved slots, an address may open another connection while it holds fewer than this share of maxConnections (at least 1). */
const RESERVED_SLOT_HOLDER_SHARE = 0.05;

type PressureChange = 'started' | 'ended';

export class ClientLimits {
  readonly #config: ClientLimitsConfig;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #clients = new Map<string, ClientState>();
  #open = 0;
  #lastSweep: number;
  #underPressure = false;

  constructor(config: ClientLimitsConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
    this.#windowMs = config.windowMs ?? DEFAULT_WINDOW_MS;
    this.#lastSweep = now();
  }

  /** Connections admitted and not yet released. */
  get openConnections(): number {
    return this.#open;
  }

  /**
   * A new connection from `address`: null when admitted (release it when it closes), else why not.
   * The total is checked first: when the server is full, no client is told it is the one to blame.
   */
  admitConnection(address: string): LimitRefusal | null {
    const { maxConnections, maxConnectionsPerClient, connectionRate } = this.#config;
    const client = this.#client(address);
    client.connections += 1;
    if (maxConnections > 0 && this.#open >= maxConnections) {
      return { limit: 'connections', text: `Too many connections (${maxConnections}), try again later` };
    }
    if (maxConnectionsPerClient > 0 && client.open >= maxConnectionsPerClient) {
      return { limit: 'connections-per-client', text: `Too many connections from ${address} (at most ${maxConnectionsPerClient} at once), try again later` };
    }
    if (connectionRate > 0 && client.connections > connectionRate) {
      return { limit: 'connection-rate', text: `Too many connections from ${address} (at most ${connectionRate} per ${this.#windowText()}), try again later` };
    }
    const reserved = this.#reservedSlotRefusal(address, client);
    if (reserved) return reserved;
    client.open += 1;
    this.#open += 1;
    return null;
  }

  /** An admitted connection has closed. */
  releaseConnection(address: string): void {
    const client = this.#clients.get(address);
    if (!client || client.open === 0) return;
    client.open -= 1;
    this.#open -= 1;
  }

  /** Whether the server is under pressure (see PRESSURE_SHARE), as of the last updatePressure(). */
  get underPressure(): boolean {
    return this.#underPressure;
  }

  /**
   * Called after connections were admitted or released: pressure starts when PRESSURE_SHARE of
   * maxConnections are open and ends below PRESSURE_END_SHARE. Returns the change, if any.
   * Without a maxConnections limit there is no pressure.
   */
  updatePressure(): PressureChange | null {
    const { maxConnections } = this.#config;
    if (maxConnections <= 0) return null;
    if (!this.#underPressure && this.#open >= reservedFrom(maxConnections)) {
      this.#underPressure = true;
      return 'started';
    }
    if (this.#underPressure && this.#open < Math.floor(maxConnections * PRESSURE_END_SHARE)) {
      this.#underPressure = false;
      return 'ended';
    }
    return null;
  }

  /**
   * The reserved slots: once PRESSURE_SHARE of maxConnections are open, an address that already
   * holds its share cannot take the rest, so a few addresses holding many slots (a slow drip)
   * cannot lock everyone else out. Judged on the count at hand, not on the pressure state.
   */
  #reservedSlotRefusal(address: string, client: ClientState): LimitRefusal | null {
    const { maxConnections } = this.#config;
    if (maxConnections <= 0 || this.#open < reservedFrom(maxConnections)) return null;
    const holderLimit = Math.max(1, Math.floor(maxConnections * RESERVED_SLOT_HOLDER_SHARE));
    if (client.open < holderLimit) return null;
    return { limit: 'reserved-slots', text: `Too many connections from ${address} while the server is busy, try again later` };
  }

  /** A new mail transaction from `address`: null when it may go on, else why not. */
  admitMessage(address: string): LimitRefusal | null {
    const { messageRate } = this.#config;
    const client = this.#client(address);
    client.messages += 1;
    if (messageRate > 0 && client.messages > messageRate) {
      return { limit: 'message-rate', text: `Too much mail from ${address} (at most ${messageRate} messages per ${this.#windowText()}), try again later` };
    }
    return null;
  }

  /**
   * A password check for `address` is about to start: null when it may, else why not (then no
   * hash is computed). The attempt counts as a failure until `cancelAuthFailure` says otherwise, so
   * a burst of parallel guesses meets the limit as surely as one guess after another.
   */
  admitAuth(address: string): LimitRefusal | null {
    const authFailureRate = this.#config.authFailureRate ?? 0;
    if (authFailureRate <= 0) return null;
    const client = this.#client(address);
    if (client.authFailures >= authFailureRate) {
      return { limit: 'auth-failure-rate', text: `Too many failed logins from ${address} (at most ${authFailureRate} per ${this.#windowText()}), try again later` };
    }
    client.authFailures += 1;
    return null;
  }

  /** The check admitted by `admitAuth` did not fail (right password, or never run): it no longer counts. */
  cancelAuthFailure(address: string): void {
    const client = this.#clients.get(address);
    if (client && client.authFailures > 0) client.authFailures -= 1;
  }

  /** The client's state with its window current. */
  #client(address: string): ClientState {
    const now = this.#now();
    this.#sweep(now);
    let client = this.#clients.get(address);
    if (!client) {
      client = { open: 0, windowStart: now, connections: 0, messages: 0, authFailures: 0 };
      this.#clients.set(address, client);
    } else if (now - client.windowStart >= this.#windowMs) {
      client.windowStart = now;
      client.connections = 0;
      client.messages = 0;
      client.authFailures = 0;
    }
    return client;
  }

  /** Forgets, once per window, the clients with nothing open and nothing counted in the current window. */
  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#windowMs) return;
    this.#lastSweep = now;
    for (const [address, client] of this.#clients) {
      if (client.open === 0 && now - client.windowStart >= this.#windowMs) this.#clients.delete(address);
    }
  }

  #windowText(): string {
    return this.#windowMs === DEFAULT_WINDOW_MS ? 'minute' : `${this.#windowMs} ms`;
  }
}

/** How many open connections put the server under pressure; the slots from there on are reserved. */
function reservedFrom(maxConnections: number): number {
  return Math.ceil(maxConnections * PRESSURE_SHARE);
}
