/**
 * The benchmarks' SMTP client (bench/ingest.ts, bench/webhook-slow.ts): one connection on node:net
 * that pipelines MAIL, RCPT and DATA and waits for the 250, costing the client as little CPU as
 * possible on a machine it shares with the server being measured.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Reply {
  readonly code: number;
  readonly lines: readonly string[];
}

interface Pending {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

/**
 * One SMTP connection. Replies are matched to commands strictly in order (RFC 2920: a pipelining
 * server answers in command order), so a FIFO of waiters is all the bookkeeping needed.
 */
export class SmtpConnection {
  private readonly socket: net.Socket;
  private readonly waiters: Pending[] = [];
  /** Bytes of an unfinished line: a reply may be split anywhere across TCP chunks. */
  private partial = '';
  /** Lines of a multi-line reply ("250-…") collected until its last line ("250 …"). */
  private lines: string[] = [];
  private failed: Error | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true); // small pipelined commands must not sit in Nagle's buffer
    socket.setEncoding('latin1'); // replies are ASCII; a string is cheaper to split than Buffers
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by server')));
    // A stalled server must end the run with an error, not hang it.
    socket.setTimeout(60_000, () => socket.destroy(new Error('no reply from server within 60 s')));
  }

  /** Connects, reads the greeting and sends EHLO; fails unless the server offers PIPELINING. */
  static async open(port: number): Promise<SmtpConnection> {
    const socket = net.connect({ host: '127.0.0.1', port });
    const conn = new SmtpConnection(socket);
    const greeting = await conn.next();
    if (greeting.code !== 220) throw new Error(`unexpected greeting: ${greeting.lines.join(' | ')}`);
    const ehlo = conn.next();
    socket.write('EHLO bench.kotak.test\r\n');
    const reply = await ehlo;
    if (reply.code !== 250) throw new Error(`EHLO refused: ${reply.lines.join(' | ')}`);
    if (!reply.lines.some((l) => /^250[- ]PIPELINING\b/i.test(l))) throw new Error('server does not advertise PIPELINING');
    return conn;
  }

  /** The next reply not yet claimed by an earlier caller. */
  private next(): Promise<Reply> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private onData(chunk: string): void {
    const text = this.partial + chunk;
    let start = 0;
    for (let end = text.indexOf('\n', start); end !== -1; end = text.indexOf('\n', start)) {
      const line = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
      start = end + 1;
      this.lines.push(line);
      // "250-…" continues, "250 …" (or a bare "250") ends the reply.
      if (line.length > 3 && line.charCodeAt(3) === 45 /* - */) continue;
      const reply: Reply = { code: Number(line.slice(0, 3)), lines: this.lines };
      this.lines = [];
      const waiter = this.waiters.shift();
      if (!waiter) return this.fail(new Error(`unsolicited reply: ${reply.lines.join(' | ')}`));
      waiter.resolve(reply);
    }
    this.partial = text.slice(start);
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
    this.socket.destroy();
  }

  /**
   * Sends one message (`envelope`: MAIL FROM, RCPT TO and DATA, from envelopes()) and resolves with whether the server accepted it (250 after DATA), plus
   * the latency from the end of DATA having been written to that 250, in ms.
   */
  async send(envelope: string, head: Buffer, body: Buffer): Promise<{ ok: boolean; latencyMs: number }> {
    // MAIL, RCPT and DATA in one write (PIPELINING): one round trip instead of three.
    const mail = this.next();
    const rcpt = this.next();
    const data = this.next();
    this.socket.write(envelope);
    const [mailReply, rcptReply, dataReply] = await Promise.all([mail, rcpt, data]);
    if (dataReply.code !== 354) {
      // The server refused the transaction: reset it so the connection can go on.
      const rset = this.next();
      this.socket.write('RSET\r\n');
      await rset;
      return { ok: false, latencyMs: NaN };
    }
    const accepted = this.next();
    // Start the clock when the terminator is written; for a big message, move it to when the last
    // bytes reached the kernel (the write callback), so the figure is the server's time to parse
    // and commit, not the time to push 1 MB through the socket.
    let t0 = performance.now();
    let answered = false;
    this.socket.cork();
    this.socket.write(head);
    this.socket.write(body, () => {
      if (!answered) t0 = performance.now();
    });
    this.socket.uncork();
    const reply = await accepted;
    answered = true;
    const latencyMs = performance.now() - t0;
    return { ok: mailReply.code === 250 && rcptReply.code === 250 && reply.code === 250, latencyMs };
  }

  async quit(): Promise<void> {
    if (this.failed) return;
    const bye = this.next();
    this.socket.write('QUIT\r\n');
    await bye.catch(() => undefined);
    this.socket.destroy();
  }
}
