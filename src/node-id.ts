/**
 * The name a Kotak process goes by among the nodes sharing one PostgreSQL database (issue 20):
 * it marks the relay jobs it holds and the events it publishes. Host name and pid make it readable
 * in `relay_jobs.lease_owner`; the random part keeps two processes apart even when a container
 * restarts with the same host name and pid, so a restarted node is never taken for its old self.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export function newNodeId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
}
