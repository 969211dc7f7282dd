/**
 * A meeting point for tests running in different Playwright workers: each caller waits until the
 * whole group has arrived, then learns who the others are. This is how the isolation tests make
 * sure both of their mails exist at the same moment before either looks, with no sleeps: the
 * server answers every caller when the last one arrives.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Set by the global setup for the workers. */
const URL_VARIABLE = 'KOTAK_TEST_RENDEZVOUS';

export async function startRendezvous(): Promise<{ url: string; close(): Promise<void> }> {
  const groups = new Map<string, { size: number; parties: Map<string, http.ServerResponse> }>();
  const server = http.createServer((req, res) => {
    const params = new URL(req.url ?? '/', 'http://rendezvous').searchParams;
    const name = params.get('group') ?? '';
    const who = params.get('who') ?? '';
    const size = Number(params.get('size'));
    let group = groups.get(name);
    if (!group) groups.set(name, (group = { size, parties: new Map() }));
    group.parties.set(who, res);
    if (group.parties.size < group.size) return;
    groups.delete(name);
    const everyone = [...group.parties.keys()];
    for (const [party, response] of group.parties) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ others: everyone.filter((p) => p !== party) }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env[URL_VARIABLE] = url;
  return {
    url,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Waits until `size` parties (this one included) have met under `group`; returns the others' names. */
export async function meet(group: string, who: string, size: number): Promise<string[]> {
  const base = process.env[URL_VARIABLE];
  if (!base) throw new Error(`${URL_VARIABLE} is not set: run these specs with test/playwright/playwright.config.ts`);
  const params = new URLSearchParams({ group, who, size: String(size) });
  const response = await fetch(`${base}/meet?${params}`);
  return ((await response.json()) as { others: string[] }).others;
}
