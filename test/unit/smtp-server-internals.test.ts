/**
 * The smtp-server internals Kotak relies on (src/smtp/connection.ts overrides private methods,
 * src/smtp/data-stream.ts rewrites the DATA scanner). smtp-server is pinned to one exact version;
 * these checks fail loudly when an upgrade moves what the overrides depend on: the version, the
 * private methods and fields, and the source text of each method an override copies or wraps
 * (fingerprinted, so the failure names exactly the methods to re-read).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPStream } from 'smtp-server/lib/smtp-stream.js';
import { describe, expect, it } from 'vitest';

const UPGRADE_ADVICE =
  'smtp-server changed under Kotak. Before moving the pin in package.json: re-read each method named here in ' +
  'node_modules/smtp-server/dist/esm/ (smtp-connection.js, smtp-server.js, smtp-stream.js), re-check the override ' +
  'or copy of it in src/smtp/connection.ts and src/smtp/data-stream.ts, run test/integration/smtp*.test.ts and ' +
  'test/unit/data-stream.test.ts, then update the expectations in this file.';

const PINNED_VERSION = '3.21.6';

interface Expectation {
  /** Declared parameters (Function.length), as the override calls or replaces it. */
  readonly arity: number;
  /** First 16 hex digits of the SHA-256 of the method's source text in the pinned version. */
  readonly source: string;
}

/** Each private (or overridden) method Kotak's subclasses override, call or copy, and why. */
const CONNECTION_METHODS: Record<string, Expectation> = {
  // Replaced: admission by the client limits and an immediate greeting instead of the 100 ms wait.
  init: { arity: 0, source: '1265a7d7ca8f5510' },
  // Called by init once admitted.
  connectionReady: { arity: 1, source: '361a2b1de88fbf67' },
  // Called by init: socket listeners, idle timeout, parser piping; calls back when ready to greet.
  _setListeners: { arity: 1, source: 'cf07ab6f47db09ac' },
  // Replaced: the same wiring with the faster DATA scanner and line-length handling.
  _createParser: { arity: 0, source: '15ca8c360137e06a' },
  // Wrapped: command line limits before smtp-server dispatches.
  _onCommand: { arity: 2, source: '41c8a1b7a32aa314' },
  // Wrapped: releasing the connection's place in the client limits.
  _onClose: { arity: 0, source: '097b8d221da5c5ad' },
  close: { arity: 0, source: '4b80aaabd134a732' },
  // Wrapped: exact enhanced status codes, corked replies, the session cap after a reply.
  send: { arity: 3, source: 'c33568c0111a58b2' },
  // Wrapped: control characters in addresses answered 501 5.1.3.
  handler_MAIL: { arity: 2, source: 'a40618dd2e16f0fa' },
  handler_RCPT: { arity: 2, source: 'ef2acd7214eaa466' },
  // Wrapped: chaos rules at EHLO/HELO and at the DATA command answer (or wait, or drop) before them.
  handler_EHLO: { arity: 2, source: '42394b3ad94f3deb' },
  handler_HELO: { arity: 2, source: 'b95050ffd35b5d29' },
  handler_DATA: { arity: 2, source: '9eceecf35f56cecd' },
  // Called after a refused over-long line, to resume reading as smtp-server does.
  _whenWritable: { arity: 1, source: '4335aceb04b5eb3a' },
  // Its "waiting for us" test is copied by the session cap and the stress deadline (#waitingForUs).
  _onTimeout: { arity: 0, source: 'f21be62dd64b1dec' },
};

const SERVER_METHODS: Record<string, Expectation> = {
  // Replaced: builds a KotakConnection; the rest is the same wiring.
  connect: { arity: 2, source: '9818ea13a1c36459' },
  _onError: { arity: 1, source: '01d6f6dc6b8d6e90' },
  _onClientConnect: { arity: 1, source: '530fef2b2700ba7a' },
  // Wrapped: the implicit-TLS handshake's timer (set on the socket it records in _pendingSockets) is shortened.
  _upgrade: { arity: 2, source: '2d34eaba8e47830d' },
};

const STREAM_METHODS: Record<string, Expectation> = {
  // Replaced by FastDataSmtpStream (same rules, native search); it calls the two below.
  _feedDataStream: { arity: 2, source: '9d8b903f9a3a6354' },
  _endDataMode: { arity: 3, source: '7de0cf3d06716328' },
  _countDataBytes: { arity: 1, source: '4b938ebe6c9971eb' },
  // Wrapped: every chunk from the client is seen first (the line deadline under pressure).
  _write: { arity: 3, source: 'a72635ce53e24b3a' },
};

/** Instance fields read or written by the overrides. */
const CONNECTION_FIELDS = ['_server', '_socket', '_parser', '_dataStream', '_handlerPending', '_closing', '_closed', '_upgrading', '_ready', '_nextHandler', '_unrecognizedCommands', 'remoteAddress', 'session'];
const PARSER_FIELDS = ['_dataMode', '_dataStream', '_lastBytes', '_atDataStart', 'isClosed', 'oncommand'];

function fingerprint(method: unknown): string {
  return createHash('sha256').update(String(method)).digest('hex').slice(0, 16);
}

/** The methods whose presence, arity or source differs from the expectation, by name. */
function changed(prototype: Record<string, unknown>, expected: Record<string, Expectation>): string[] {
  return Object.entries(expected).flatMap(([name, { arity, source }]) => {
    const method = prototype[name];
    if (typeof method !== 'function') return [`${name}: missing`];
    if (method.length !== arity) return [`${name}: takes ${method.length} parameters, expected ${arity}`];
    if (fingerprint(method) !== source) return [`${name}: source changed (now ${fingerprint(method)})`];
    return [];
  });
}

describe('smtp-server internals relied on by src/smtp/connection.ts and data-stream.ts', () => {
  it(`is pinned to exactly ${PINNED_VERSION}, and that version is installed`, () => {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(readFileSync(new URL('../../node_modules/smtp-server/package.json', import.meta.url), 'utf8')) as { version: string };
    expect(manifest.dependencies['smtp-server'], `package.json must pin smtp-server exactly. ${UPGRADE_ADVICE}`).toBe(PINNED_VERSION);
    expect(installed.version, `installed smtp-server is not the pinned one. ${UPGRADE_ADVICE}`).toBe(PINNED_VERSION);
  });

  it('has the private methods the overrides call, replace or copy, unchanged', () => {
    const differences = [
      ...changed(SMTPConnection.prototype as unknown as Record<string, unknown>, CONNECTION_METHODS).map((d) => `SMTPConnection.${d}`),
      ...changed(SMTPServer.prototype as unknown as Record<string, unknown>, SERVER_METHODS).map((d) => `SMTPServer.${d}`),
      ...changed(SMTPStream.prototype as unknown as Record<string, unknown>, STREAM_METHODS).map((d) => `SMTPStream.${d}`),
    ];
    expect(differences, `${differences.join('; ')}. ${UPGRADE_ADVICE}`).toEqual([]);
  });

  it('has the private fields the overrides read', () => {
    const server = new SMTPServer({ logger: false, disabledCommands: ['STARTTLS'] });
    const connection = new SMTPConnection(server, new net.Socket());
    const missing = [
      ...CONNECTION_FIELDS.filter((field) => !(field in connection)).map((f) => `SMTPConnection.${f}`),
      ...PARSER_FIELDS.filter((field) => !(field in (connection._parser as object))).map((f) => `SMTPStream.${f}`),
      ...(server.connections instanceof Set ? [] : ['SMTPServer.connections (a Set)']),
      ...(server._pendingSockets instanceof Map ? [] : ['SMTPServer._pendingSockets (a Map)']),
    ];
    expect(missing, `missing fields: ${missing.join(', ')}. ${UPGRADE_ADVICE}`).toEqual([]);
  });
});
