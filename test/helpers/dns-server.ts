/**
 * A real, authoritative-only DNS server on 127.0.0.1 for relay tests, built on dns-packet: the
 * code under test talks to it through node:dns exactly as it would talk to a real resolver, so
 * c-ares' own behaviour (retries, timeouts, TCP fallback, error codes) is part of what is tested.
 *
 * It answers from a zone object, and records every question it receives, so a test can prove
 * which names were looked up and which were not:
 *
 *   const dns = await startDnsServer({
 *     'example.test': { MX: [{ preference: 10, exchange: 'mx1.example.test' }] },
 *     'mx1.example.test': { A: ['127.0.0.1'] },
 *     'nomail.test': { MX: [{ preference: 0, exchange: '.' }] },   // null MX (RFC 7505)
 *     'broken.test': 'SERVFAIL',
 *     'slow.test': 'TIMEOUT',                                       // never answers
 *     's1._domainkey.example.test': { TXT: ['v=DKIM1; k=rsa; p=MIIB…'] },  // long strings split into 255-byte chunks
 *   });
 *
 * A name not in the zone is NXDOMAIN; a name in it without records of the asked type is NODATA
 * (NOERROR, no answers). A failure can also be set per type (`{ A: ['127.0.0.1'], AAAA: 'SERVFAIL' }`).
 * Every answer has TTL 0, so c-ares never caches one across `setZone`. UDP answers larger than
 * the client accepts are truncated (TC), and the same port serves TCP, as a real server does.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Question } from 'dns-packet';

/** Answer with this RCODE, or (TIMEOUT) not at all. */
export type DnsFailure = 'SERVFAIL' | 'REFUSED' | 'TIMEOUT';

export interface ZoneRecords {
  readonly MX?: readonly { readonly preference: number; readonly exchange: string }[] | DnsFailure;
  readonly A?: readonly string[] | DnsFailure;
  readonly AAAA?: readonly string[] | DnsFailure;
  /** Each record's text; past 255 bytes it is sent as several character-strings (RFC 1035 3.3.14), as DKIM keys are. */
  readonly TXT?: readonly string[] | DnsFailure;
}

export type Zone = Readonly<Record<string, ZoneRecords | DnsFailure>>;

export interface DnsQuery {
  /** Lower-cased, without a trailing dot. */
  readonly name: string;
  readonly type: string;
  readonly transport: 'udp' | 'tcp';
}

export interface DnsTestServer {
  readonly port: number;
  /** `127.0.0.1:PORT`, as node:dns's setServers (and --relay-dns) take it. */
  readonly address: string;
  /** Every question received, in order. */
  readonly queries: DnsQuery[];
  setZone(zone: Zone): void;
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;
/** RFC 1035 4.2.1: the UDP limit for a client that does not say otherwise with EDNS (RFC 6891). */
const CLASSIC_UDP_LIMIT = 512;

export async function startDnsServer(initialZone: Zone): Promise<DnsTestServer> {
  let zone = normaliseZone(initialZone);
  const queries: DnsQuery[] = [];
  const answer = (query: Buffer, transport: DnsQuery['transport']): Buffer | undefined => {
    let packet: DecodedPacket;
    try {
      packet = dnsPacket.decode(query);
    } catch {
      return undefined; // not DNS: a real server drops it too
    }
    const question = packet.questions?.[0];
    if (!question) return undefined;
    const name = normaliseName(question.name);
    queries.push({ name, type: question.type, transport });
    const reply = replyFor(zone, name, question);
    if (reply === 'TIMEOUT') return undefined;
    const flags = dnsPacket.AUTHORITATIVE_ANSWER | (packet.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | reply.rcode;
    const response = { type: 'response' as const, id: packet.id, flags, questions: [question], answers: reply.answers };
    const encoded = dnsPacket.encode(response);
    if (transport === 'udp' && encoded.length > udpLimit(packet)) {
      return dnsPacket.encode({ ...response, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [] });
    }
    return encoded;
  };

  const { udp, tcp, port } = await bindUdpAndTcp();
  udp.on('message', (message, peer) => {
    const response = answer(message, 'udp');
    if (response) udp.send(response, peer.port, peer.address);
  });
  const connections = new Set<net.Socket>();
  tcp.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      // RFC 1035 4.2.2: each message is preceded by its two-byte length.
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const message = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + message.length);
        const response = answer(message, 'tcp');
        if (response) socket.write(Buffer.concat([lengthPrefix(response.length), response]));
      }
    });
  });

  return {
    port,
    address: `127.0.0.1:${port}`,
    queries,
    setZone(next) {
      zone = normaliseZone(next);
    },
    async close() {
      for (const socket of connections) socket.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}

/**
 * `127.0.0.1:PORT` where nothing listens (a port just bound and released), for tests of a DNS
 * server that cannot be reached: UDP to it draws ICMP port-unreachable, i.e. ECONNREFUSED.
 */
export async function unreachableDnsAddress(): Promise<string> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

type Reply = { readonly rcode: number; readonly answers: Answer[] } | 'TIMEOUT';

function replyFor(zone: Map<string, ZoneRecords | DnsFailure>, name: string, question: Question): Reply {
  const entry = zone.get(name);
  if (entry === undefined) return { rcode: RCODE.NXDOMAIN, answers: [] };
  const records = typeof entry === 'string' ? entry : recordsOf(entry, question.type);
  if (records === 'TIMEOUT') return 'TIMEOUT';
  if (typeof records === 'string') return { rcode: RCODE[records], answers: [] };
  return { rcode: RCODE.NOERROR, answers: records.map((data) => answerFor(question, data)) };
}

function recordsOf(entry: ZoneRecords, type: string): readonly (string | { preference: number; exchange: string })[] | DnsFailure {
  if (type === 'MX' || type === 'A' || type === 'AAAA' || type === 'TXT') return entry[type] ?? [];
  return [];
}

function answerFor(question: Question, data: string | { preference: number; exchange: string }): Answer {
  const base = { name: question.name, ttl: 0, class: 'IN' as const };
  if (typeof data === 'string' && question.type === 'TXT') {
    const bytes = Buffer.from(data);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length || chunks.length === 0; at += 255) chunks.push(bytes.subarray(at, at + 255));
    return { ...base, type: 'TXT', data: chunks };
  }
  if (typeof data === 'string') return { ...base, type: question.type as 'A' | 'AAAA', data };
  return { ...base, type: 'MX', data: { preference: data.preference, exchange: data.exchange } };
}

function udpLimit(query: DecodedPacket): number {
  const edns = query.additionals?.find((record) => record.type === 'OPT');
  return edns && 'udpPayloadSize' in edns ? Math.max(CLASSIC_UDP_LIMIT, edns.udpPayloadSize) : CLASSIC_UDP_LIMIT;
}

function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(2);
  prefix.writeUInt16BE(length);
  return prefix;
}

function normaliseName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function normaliseZone(zone: Zone): Map<string, ZoneRecords | DnsFailure> {
  return new Map(Object.entries(zone).map(([name, entry]) => [normaliseName(name), entry]));
}

/**
 * c-ares sends TCP queries to the port it sends UDP ones to, so both must share a port number:
 * take a free UDP port, then the same TCP port, and start over if another process holds that one.
 */
async function bindUdpAndTcp(): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve());
    });
    const { port } = udp.address();
    const tcp = net.createServer();
    const listening = await new Promise<boolean>((resolve, reject) => {
      tcp.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' && attempt < 20 ? resolve(false) : reject(err)));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (listening) return { udp, tcp, port };
    await new Promise<void>((resolve) => udp.close(() => resolve()));
  }
}
