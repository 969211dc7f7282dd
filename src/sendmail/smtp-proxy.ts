/**
 * -bs: the caller speaks SMTP on our stdin and stdout (Symfony Mailer's default sendmail
 * transport does). Bytes are passed through unchanged in both directions, so the caller is in a
 * real SMTP session with Kotak: its greeting, its extensions, its replies and its queued-as ids.
 * The session ends when Kotak closes it (after QUIT), or once the caller's input has ended and
 * every command in it has been answered (see smtp-turns.ts).
 */
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { EXIT } from './exit-status.js';
import type { Verdict } from './outcome.js';
import type { ServerAddress } from './server-address.js';
import { SmtpTurns } from './smtp-turns.js';

export interface ProxyIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
}

export async function proxySmtpSession(server: ServerAddress, ips: readonly string[], io: ProxyIo, connectMs: number): Promise<Verdict> {
  let socket: net.Socket | null = null;
  const reasons: string[] = [];
  for (const ip of ips) {
    try {
      socket = await connect(ip, server.port, connectMs);
      break;
    } catch (err) {
      reasons.push(describe(err as NodeJS.ErrnoException, connectMs));
    }
  }
  if (!socket) {
    const reason = [...new Set(reasons)].join('; ');
    // The caller is waiting for a greeting: a 421 tells an SMTP client to give up cleanly.
    io.stdout.write(`421 4.3.2 Kotak's SMTP server at ${server.label} is not reachable (${reason})\r\n`);
    return { status: EXIT.unavailable, message: `cannot reach Kotak's SMTP server at ${server.label} (${reason}); set -S or KOTAK_SENDMAIL_SMTP` };
  }
  return relayBytes(socket, server, io);
}

function relayBytes(socket: net.Socket, server: ServerAddress, io: ProxyIo): Promise<Verdict> {
  return new Promise((resolve) => {
    let lost: string | null = null;
    const turns = new SmtpTurns();
    let inputEnded = false;
    // Once the caller has said everything, the connection is closed when every command is answered.
    const endWhenAnswered = (): void => {
      if (inputEnded && (turns.owed === 0 || turns.inData || !turns.readable) && !socket.writableEnded) socket.end();
    };
    socket.on('error', (err: NodeJS.ErrnoException) => (lost = describe(err, 0)));
    let greeted = false;
    socket.on('data', (chunk: Buffer) => {
      turns.server(chunk);
      if (!greeted && turns.owed === 0) {
        // The caller's bytes wait for the greeting: smtp-server answers a client that talks
        // before it with "421 You talk too soon", and a caller may have written its whole session.
        greeted = true;
        io.stdin.on('data', (input: Buffer) => turns.client(input));
        io.stdin.pipe(socket, { end: false });
      }
      endWhenAnswered();
    });
    // The caller hung up on its end: nothing more can be said to it.
    io.stdout.on('error', () => socket.destroy());
    socket.pipe(io.stdout, { end: false });
    io.stdin.once('end', () => {
      inputEnded = true;
      endWhenAnswered();
    });
    socket.once('close', () => {
      io.stdin.unpipe(socket);
      io.stdin.pause();
      // Whatever Kotak said last must reach the caller before we exit.
      io.stdout.write('', () =>
        resolve(
          lost
            ? { status: EXIT.tempFail, message: `lost the connection to Kotak's SMTP server at ${server.label} (${lost})` }
            : { status: EXIT.ok, message: `SMTP session with ${server.label} ended` },
        ),
      );
    });
  });
}

function connect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

function describe(err: NodeJS.ErrnoException, timeoutMs: number): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
      return timeoutMs ? `no answer within ${timeoutMs / 1000} s` : 'timed out';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    default:
      return err.message;
  }
}
