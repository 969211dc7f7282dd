/**
 * A small reverse proxy on loopback that mounts Kotak under a sub-path, as nginx or Traefik would:
 * it forwards HTTP and WebSocket upgrades unchanged, and can cut every live WebSocket on demand
 * (to test reconnection) or refuse new ones for a while.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface TestProxy {
  readonly url: string;
  /** Destroys every proxied WebSocket connection. */
  dropWebSockets(): void;
  /** While false, WebSocket upgrades are refused (the client keeps retrying). */
  acceptWebSockets: boolean;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TestProxy> {
  const upgraded = new Set<net.Socket>();
  const state = { acceptWebSockets: true };
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('upgrade', (req, socket, head) => {
    if (!state.acceptWebSockets) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1', () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    const client = socket as net.Socket;
    upgraded.add(client);
    const cleanup = () => {
      upgraded.delete(client);
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', cleanup);
    upstream.on('close', cleanup);
    client.on('error', cleanup);
    client.on('close', cleanup);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    dropWebSockets() {
      for (const socket of upgraded) socket.destroy();
    },
    get acceptWebSockets() {
      return state.acceptWebSockets;
    },
    set acceptWebSockets(value: boolean) {
      state.acceptWebSockets = value;
    },
    close() {
      for (const socket of upgraded) socket.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
