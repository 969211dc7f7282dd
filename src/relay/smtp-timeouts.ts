/**
 * The client timeouts of RFC 5321 4.5.3.2, one per thing the client can be waiting for, and the
 * single timer that enforces whichever applies at the moment.
 *
 * nodemailer has only a setup deadline and a socket inactivity timeout, which cannot express "10
 * minutes for the reply to the final dot but 3 for each data block", so its own timers are set
 * as loose backstops (see `backstopTimeouts`) and these decide.
 */
import type { Awaiting } from './smtp-session-recorder.js';

export interface DeliveryTimeouts {
  /** TCP connect (and the implicit-TLS handshake). Not in RFC 5321; Postfix uses 30 s. */
  readonly connectMs: number;
  /** The 220 greeting. */
  readonly greetingMs: number;
  /** The reply to EHLO, STARTTLS (and its handshake), AUTH, MAIL FROM, RCPT TO, QUIT. */
  readonly commandMs: number;
  /** The 354 reply to DATA. */
  readonly dataInitMs: number;
  /** Each block of message data being taken by the server. */
  readonly dataBlockMs: number;
  /** The reply to the final dot. */
  readonly dataTerminationMs: number;
}

export const RFC5321_TIMEOUTS: DeliveryTimeouts = Object.freeze({
  connectMs: 30_000,
  greetingMs: 5 * 60_000,
  commandMs: 5 * 60_000,
  dataInitMs: 2 * 60_000,
  dataBlockMs: 3 * 60_000,
  dataTerminationMs: 10 * 60_000,
});

/** The limit for the current wait, or null when the client waits for nothing (no timer). */
export function timeoutFor(awaiting: Awaiting, timeouts: DeliveryTimeouts): number | null {
  switch (awaiting) {
    case 'connection':
      return timeouts.connectMs;
    case 'greeting':
      return timeouts.greetingMs;
    case 'reply':
    case 'tls-handshake':
      return timeouts.commandMs;
    case 'data-reply':
      return timeouts.dataInitMs;
    case 'message-data':
      return timeouts.dataBlockMs;
    case 'final-reply':
      return timeouts.dataTerminationMs;
    case 'nothing':
      return null;
  }
}

/** nodemailer's own limits, loose enough that ours always fire first. */
export function backstopTimeouts(t: DeliveryTimeouts): { connectionTimeout: number; greetingTimeout: number; socketTimeout: number } {
  const longest = Math.max(t.connectMs, t.greetingMs, t.commandMs, t.dataInitMs, t.dataBlockMs, t.dataTerminationMs);
  return {
    // nodemailer's connectionTimeout is a deadline for connect + greeting + STARTTLS handshake.
    connectionTimeout: 2 * (t.connectMs + t.greetingMs + 3 * t.commandMs) + 1000,
    greetingTimeout: 2 * t.greetingMs + 1000,
    socketTimeout: 2 * longest + 1000,
  };
}

/** One timer, re-armed on every bit of progress; fires `onExpire` with the limit that ran out. */
export class Deadline {
  readonly #onExpire: (ms: number) => void;
  #timer: NodeJS.Timeout | undefined;

  constructor(onExpire: (ms: number) => void) {
    this.#onExpire = onExpire;
  }

  arm(ms: number | null): void {
    this.clear();
    if (ms === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#onExpire(ms);
    }, ms);
  }

  clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
