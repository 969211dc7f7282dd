/**
 * Socket steps a mail-client connection (POP3, IMAP) takes the same way whatever the protocol:
 * waiting for room to write, ending with a grace period, and the server side of an in-band TLS
 * upgrade (STLS, STARTTLS).
 */
import type net from 'node:net';
import tls from 'node:tls';

/** Resolves when the socket's buffer has drained, or it closed. */
export function whenWritable(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** Ends our side; a client that does not close its side within `graceMs` is cut off. */
export function endWithGrace(socket: net.Socket, graceMs: number): void {
  if (socket.destroyed) return;
  socket.end();
  setTimeout(() => socket.destroy(), graceMs).unref();
}

/**
 * Wraps a plain socket (already detached from the protocol's handlers and paused) in server-side
 * TLS. `handlers.error` and `handlers.close` are attached at once; `secure` runs once the handshake
 * is done. The idle timeout covers the handshake: a client that never sends its hello is closed.
 */
export function upgradeToTls(
  plain: net.Socket,
  secureContext: tls.SecureContext,
  idleTimeoutMs: number,
  handlers: { readonly error: (error: Error) => void; readonly close: () => void; readonly secure: (socket: tls.TLSSocket) => void },
): tls.TLSSocket {
  const secure = new tls.TLSSocket(plain, { isServer: true, secureContext });
  secure.on('error', handlers.error);
  secure.on('close', handlers.close);
  const handshakeTimeout = (): void => void secure.destroy();
  secure.on('timeout', handshakeTimeout);
  secure.setTimeout(idleTimeoutMs);
  secure.once('secure', () => {
    secure.off('timeout', handshakeTimeout);
    handlers.secure(secure);
  });
  return secure;
}
