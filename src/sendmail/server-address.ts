/**
 * Where Kotak's SMTP server is: -S / --smtp-addr, else KOTAK_SENDMAIL_SMTP, else 127.0.0.1:1025
 * (where `kotak` listens by default). A name is resolved to every address it has and each is
 * tried in turn: "localhost" resolves to ::1 first on many systems, while Kotak listens on
 * 127.0.0.1 by default.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { usageError } from './exit-status.js';

export const DEFAULT_SMTP_ADDRESS = '127.0.0.1:1025';
const DEFAULT_PORT = 1025;

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  /** As the user wrote it, for messages. */
  readonly label: string;
}

/** "host:port", "[v6]:port", "host" (port 1025) or a bare IPv6 address. */
export function parseServerAddress(value: string, source: string): ServerAddress {
  const text = value.trim();
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text);
  const host = match ? (match[1] ?? match[2]!) : isIP(text) === 6 ? text : null;
  const port = match?.[3] === undefined ? DEFAULT_PORT : Number(match[3]);
  if (host === null || port < 1 || port > 65535) throw usageError(`${source}: "${value}" is not HOST:PORT (e.g. 127.0.0.1:1025)`);
  return { host, port, label: host.includes(':') ? `[${host}]:${port}` : `${host}:${port}` };
}

/** Which setting named the server, for the usage message. */
export function chooseServerAddress(flag: string | null, env: NodeJS.ProcessEnv): ServerAddress {
  if (flag !== null) return parseServerAddress(flag, '-S');
  const fromEnv = env.KOTAK_SENDMAIL_SMTP?.trim();
  if (fromEnv) return parseServerAddress(fromEnv, 'KOTAK_SENDMAIL_SMTP');
  return parseServerAddress(DEFAULT_SMTP_ADDRESS, 'default');
}

/** The IP addresses to try, in the resolver's order; rejects with the resolver's error. */
export async function candidateAddresses(server: ServerAddress): Promise<string[]> {
  if (isIP(server.host)) return [server.host];
  const found = await lookup(server.host, { all: true, verbatim: true });
  return [...new Set(found.map((a) => a.address))];
}
