/** Reading Kotak's GET /metrics in tests: the samples by series, and promtool's verdict on the text. */
import { spawn } from 'node:child_process';
import type { RunningKotak } from '../../src/app.js';

export interface Scrape {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
  /** Sample values by series as written, e.g. `kotak_messages_stored_total{mailbox="default"}`. */
  readonly samples: ReadonlyMap<string, number>;
}

export function parseSamples(body: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

export async function scrape(kotak: RunningKotak, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(`${kotak.url}/metrics`, { headers });
  const body = await res.text();
  return { status: res.status, contentType: res.headers.get('content-type'), body, samples: res.status === 200 ? parseSamples(body) : new Map() };
}

/** Scrapes until `done` holds (a condition on the server's state that no event announces). */
export async function scrapeUntil(kotak: RunningKotak, done: (samples: ReadonlyMap<string, number>) => boolean, headers: Record<string, string> = {}): Promise<Scrape> {
  for (;;) {
    const result = await scrape(kotak, headers);
    if (done(result.samples)) return result;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** `promtool check metrics` (Debian's prometheus package) on the text: its exit code and what it printed. */
export function promtoolCheck(body: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
    child.stdin.end(body);
  });
}
