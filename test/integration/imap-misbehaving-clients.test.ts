/**
 * IMAP clients that misbehave around a 20 MB message do not disturb SMTP intake (issue 21): one
 * pipelines thirty FETCHes of it and then stops reading, one drops its connection mid-FETCH (three
 * times), one floods garbage. Meanwhile every message nodemailer sends gets its 250, and the
 * Kotak process (the real `kotak` command, so its memory can be read from /proc) stays within a
 * bound far below what buffering the stalled client's replies would take (30 × 20 MB). No timing
 * is asserted: only that everything completes and memory stays bounded.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryOf, startImapKotakProcess, type ImapKotakProcess } from '../helpers/imap-kotak.js';
import { queuedId, sendRaw } from '../helpers/smtp-client.js';

const MB = 1024 * 1024;

/** A multipart message of about `size` bytes: a base64 attachment of random bytes in 76-character lines. */
function bigMessage(size: number): Buffer {
  const base64 = randomBytes(Math.floor((size * 3) / 4)).toString('base64');
  const lines = base64.match(/.{1,76}/g)!.join('\r\n');
  return Buffer.from(
    'From: big@example.com\r\nTo: inbox@example.com\r\nSubject: twenty megabytes\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n' +
      `--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="big.bin"\r\n\r\n${lines}\r\n--b--\r\n`,
  );
}

/**
 * A raw IMAP connection: writes what it is given, counts what arrives, and waits for text in it.
 * A 20 MB literal is counted, not stored: each chunk is searched together with the end of the one
 * before (so a match split between chunks is found), then only that end is kept.
 */
class RawImap {
  received = 0;
  closed = false;
  readonly socket: net.Socket;
  #tail = '';
  #waiter: { readonly test: (text: string) => boolean; readonly resolve: () => void } | null = null;
  #onClose: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      const text = this.#tail + chunk.toString('latin1');
      this.#tail = text.slice(-4096);
      if (this.#waiter?.test(text)) {
        const { resolve } = this.#waiter;
        this.#waiter = null;
        resolve();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      for (const wake of this.#onClose.splice(0)) wake();
    });
  }

  static connect(port: number): Promise<RawImap> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawImap(socket)));
      socket.once('error', reject);
    });
  }

  /** Resolves once text arriving from now on (with the end of what came before) passes `test`; rejects if the connection closes first. */
  until(test: (text: string) => boolean, what: string): Promise<void> {
    if (test(this.#tail)) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`connection closed before ${what}`));
    return new Promise((resolve, reject) => {
      this.#waiter = { test, resolve };
      this.#onClose.push(() => reject(new Error(`connection closed before ${what} (last: ${JSON.stringify(this.#tail.slice(-300))})`)));
    });
  }

  /** Resolves once the server has closed the connection. */
  closedByServer(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.#onClose.push(resolve));
  }

  write(data: string | Buffer): void {
    if (!this.closed) this.socket.write(data);
  }

  /** Greeting, LOGIN and SELECT INBOX. */
  async open(): Promise<void> {
    await this.until((t) => t.includes('* OK'), 'the greeting');
    this.write('l LOGIN tester secret\r\n');
    await this.until((t) => /\r\nl OK|^l OK/.test(t), 'LOGIN');
    this.write('s SELECT INBOX\r\n');
    await this.until((t) => /\r\ns OK/.test(t), 'SELECT');
  }

  destroy(): void {
    this.socket.destroy();
  }
}

describe('IMAP clients that stall, flood or drop mid-FETCH of a 20 MB message', () => {
  let kotak: ImapKotakProcess;
  let bigId: string;
  beforeAll(async () => {
    kotak = await startImapKotakProcess(['--db', ':memory:']);
    const reply = await sendRaw(kotak.smtpPort, bigMessage(20 * MB));
    expect(reply.code, reply.text).toBe(250);
    bigId = queuedId(reply);
  });
  afterAll(() => kotak.stop());

  it('SMTP intake carries on and memory stays bounded', async () => {
    const before = memoryOf(kotak.pid).rss;

    // Stalls: thirty pipelined FETCHes, then no more reading once the first literal has begun.
    const stalled = await RawImap.connect(kotak.imapPort);
    await stalled.open();
    stalled.write(Array.from({ length: 30 }, (_, i) => `f${i} FETCH 1 BODY.PEEK[]\r\n`).join(''));
    await stalled.until((t) => /\* 1 FETCH \(/.test(t), 'the first FETCH response');
    stalled.socket.pause();

    // Drops: the connection goes away as soon as the literal has begun, three times over.
    for (let i = 0; i < 3; i++) {
      const dropper = await RawImap.connect(kotak.imapPort);
      await dropper.open();
      dropper.write('d FETCH 1 BODY[]\r\n');
      await dropper.until((t) => /\{\d+\}\r\n/.test(t), 'the literal');
      dropper.destroy();
    }

    // Floods: garbage lines, then binary noise; the server gives up on it and closes.
    const flooder = await RawImap.connect(kotak.imapPort);
    await flooder.until((t) => t.includes('* OK'), 'the greeting');
    flooder.write(Array.from({ length: 200 }, (_, i) => `${i} \u0000\u00ff garbage ( [ { \r\n`).join(''));
    flooder.write(randomBytes(2 * MB));
    await flooder.closedByServer();

    // Meanwhile, SMTP intake: every message gets its 250.
    const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: kotak.smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 4 });
    try {
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, i) => smtp.sendMail({ from: 'app@example.com', to: 'user@example.com', subject: `during the stall ${i}`, text: `message ${i}` })),
      );
      for (const info of replies) expect(info.response).toMatch(/^250 /);
    } finally {
      smtp.close();
    }
    const stats = (await (await fetch(`${kotak.url}/api/stats`)).json()) as { total: number };
    expect(stats.total).toBe(41);

    // Still stalled, the client holds no more than a bounded share of the server's memory.
    expect(stalled.closed).toBe(false);
    const during = memoryOf(kotak.pid).rss;
    expect(during - before).toBeLessThan(256 * MB);

    // And IMAP still serves everyone else: a new session reads the big message's size.
    const client = new ImapFlow({ host: '127.0.0.1', port: kotak.imapPort, secure: false, auth: { user: 'tester', pass: 'secret' }, logger: false });
    await client.connect();
    try {
      await client.mailboxOpen('INBOX', { readOnly: true });
      const big = await client.fetchOne('1', { size: true, uid: true });
      const summary = (await (await fetch(`${kotak.url}/api/messages/${bigId}`)).json()) as { size: number };
      expect(summary.size).toBeGreaterThan(20 * MB);
      expect(big !== false && big.size).toBe(summary.size);
    } finally {
      await client.logout();
    }
    stalled.destroy();
  });
});
