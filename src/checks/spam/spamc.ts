/**
 * A small client of SpamAssassin's spamd, speaking the SPAMC protocol (spamd/PROTOCOL in the
 * SpamAssassin sources): one request per connection, `REPORT SPAMC/1.5`, a Content-length header,
 * the message, then our half of the connection closed; spamd answers `SPAMD/1.1 0 EX_OK`, a
 * `Spam: True ; 15.0 / 5.0` header and the report as the body. Every outcome is an answer or a
 * KotakError with a code of its own: spamd unreachable, too slow, or answering something else.
 */
import net from 'node:net';
import type { SpamdAddress } from '../../config.js';
import { KotakError } from '../../errors.js';

export type { SpamdAddress };

export interface SpamdReply {
  /** spamd's verdict: its score reached its `required_score`. */
  readonly isSpam: boolean;
  readonly score: number;
  readonly threshold: number;
  /** The REPORT body: a human text with the table of rules that hit. */
  readonly report: string;
}

export interface SpamcOptions {
  /** For the whole exchange: connecting, sending, spamd's scoring and its answer. */
  readonly timeoutMs: number;
  /** A longer answer is no spamd's: the report of even a long message is a few KB. */
  readonly maxReplyBytes?: number;
}

const DEFAULT_MAX_REPLY_BYTES = 1024 * 1024;

export function describeSpamdAddress(address: SpamdAddress): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** Why a connection failed, by errno, in words a person can act on. */
function unreachable(where: string, err: NodeJS.ErrnoException): KotakError {
  const reasons: Readonly<Record<string, string>> = {
    ECONNREFUSED: 'refused the connection (is spamd running and listening there?)',
    ENOENT: 'has no socket at that path (is spamd running with --socketpath?)',
    EACCES: 'refused access to its socket (permissions)',
    ECONNRESET: 'closed the connection before answering (is this address allowed by spamd --allowed-ips?)',
    EPIPE: 'closed the connection before answering (is this address allowed by spamd --allowed-ips?)',
    EHOSTUNREACH: 'cannot be reached (no route to host)',
    ENOTFOUND: 'is a host name that does not resolve',
  };
  const reason = reasons[err.code ?? ''] ?? `could not be used: ${err.message}`;
  return new KotakError('spamd_unavailable', `spamd at ${where} ${reason}`, { cause: err });
}

function badReply(where: string, what: string): KotakError {
  return new KotakError('spamd_failed', `spamd at ${where} ${what}`);
}

const STATUS_LINE = /^SPAMD\/(\d+\.\d+) +(\d+) *(.*)$/;
const SPAM_HEADER = /^(true|false|yes|no) *; *(-?\d+(?:\.\d+)?) *\/ *(-?\d+(?:\.\d+)?)$/i;

/** spamd's answer, whole, read into its verdict and report; anything else is `spamd_failed`. */
export function parseSpamdReply(bytes: Buffer, where: string): SpamdReply {
  const headEnd = bytes.indexOf('\r\n\r\n');
  const statusEnd = bytes.indexOf('\r\n');
  const statusLine = bytes.subarray(0, statusEnd === -1 ? bytes.length : statusEnd).toString('latin1');
  const status = STATUS_LINE.exec(statusLine);
  if (!status) {
    throw badReply(where, bytes.length === 0 ? 'closed the connection without an answer' : `answered something other than SPAMD: "${statusLine.slice(0, 80)}"`);
  }
  // EX_OK is 0; any other is a sysexits code with its name and spamd's reason (e.g. 76 Bad header line).
  if (status[2] !== '0') throw badReply(where, `refused the request: ${status[2]} ${status[3]}`);
  if (headEnd === -1) throw badReply(where, 'answered without the end of its headers');
  const headers = new Map<string, string>();
  for (const line of bytes.subarray(statusEnd + 2, headEnd).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const spam = SPAM_HEADER.exec(headers.get('spam') ?? '');
  if (!spam) throw badReply(where, `answered without a readable Spam header ("${headers.get('spam') ?? ''}")`);
  let body = bytes.subarray(headEnd + 4);
  const declared = headers.get('content-length');
  if (declared !== undefined) {
    if (!/^\d+$/.test(declared) || Number(declared) > body.length) throw badReply(where, `sent ${body.length} bytes of a report of ${declared}`);
    body = body.subarray(0, Number(declared));
  }
  return {
    isSpam: /^(true|yes)$/i.test(spam[1]!),
    score: Number(spam[2]),
    threshold: Number(spam[3]),
    report: body.toString('utf8'),
  };
}

/**
 * Sends `message` to spamd with REPORT and resolves with its reply. The socket is destroyed on
 * every path out, so a spamd that never answers costs one socket for at most `timeoutMs`.
 */
export function spamdReport(address: SpamdAddress, message: Buffer, options: SpamcOptions): Promise<SpamdReply> {
  const where = describeSpamdAddress(address);
  const maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
  return new Promise<SpamdReply>((resolve, reject) => {
    const socket = address.kind === 'unix' ? net.connect({ path: address.path }) : net.connect({ host: address.host, port: address.port });
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (outcome: () => SpamdReply): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      try {
        resolve(outcome());
      } catch (err) {
        reject(err as Error);
      }
    };
    const timer = setTimeout(() => {
      finish(() => {
        const seconds = options.timeoutMs / 1000;
        throw new KotakError('spamd_timeout', `spamd at ${where} did not answer within ${seconds} s (--spamassassin-timeout)`);
      });
    }, options.timeoutMs);

    socket.on('connect', () => {
      socket.write(`REPORT SPAMC/1.5\r\nContent-length: ${message.length}\r\n\r\n`);
      socket.write(message);
      // spamd reads to Content-length; closing our side as spamc does tells it nothing more comes.
      socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxReplyBytes) {
        finish(() => {
          throw badReply(where, `answered more than ${maxReplyBytes} bytes`);
        });
        return;
      }
      chunks.push(chunk);
    });
    socket.on('end', () => finish(() => parseSpamdReply(Buffer.concat(chunks), where)));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after a whole answer arrived is still that answer (spamd closes as it finishes).
      if (chunks.length > 0 && (err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
        finish(() => parseSpamdReply(Buffer.concat(chunks), where));
        return;
      }
      finish(() => {
        throw unreachable(where, err);
      });
    });
    socket.on('close', () => finish(() => parseSpamdReply(Buffer.concat(chunks), where)));
  });
}
