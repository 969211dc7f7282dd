/**
 * Counting open connections per protocol, for `kotak_connections_open{protocol}`: what a protocol
 * server (SMTP, POP3, IMAP) is handed and calls, without knowing about Prometheus. Optional in
 * every server's deps: without it nothing is counted.
 */
export interface ConnectionCounter {
  opened(): void;
  closed(): void;
}

/** Counts a socket from now until it closes (whatever ends it: the client, a timeout, a refusal). */
export function countSocket(counter: ConnectionCounter | undefined, socket: { once(event: 'close', listener: () => void): unknown }): void {
  if (!counter) return;
  counter.opened();
  socket.once('close', () => counter.closed());
}
