/** A port for a helper server that cannot be told to listen on port 0 and report the one it got. */
import { once } from 'node:events';
import net from 'node:net';

/** A loopback port nothing listens on right now (bound to 0, then released: another process may take it first). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
