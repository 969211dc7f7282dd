/** Starting Kotak in-process for a test, and talking to it over HTTP and WebSocket. */
import nodemailer from 'nodemailer';
import WebSocket from 'ws';
import { startKotak, type KotakOptions } from '../../src/index.js';
import type { RunningKotak } from '../../src/app.js';
import type { LiveFrame } from '../../src/live/protocol.js';

export type { RunningKotak };

export function withKotak(options: KotakOptions = {}): Promise<RunningKotak> {
  return startKotak({ parseWorkers: 1, ...options });
}

export function transport(kotak: RunningKotak, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({ host: '127.0.0.1', port: kotak.smtpPort, secure: false, ignoreTLS: true, ...extra });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
export async function getJson<T = any>(kotak: RunningKotak, path: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${kotak.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

type FrameOf<T extends LiveFrame['type']> = Extract<LiveFrame, { type: T }>;

/** A WebSocket client on /api/live that records frames and can wait for one. */
export class LiveClient {
  readonly frames: LiveFrame[] = [];
  private readonly waiters: { matches: (f: LiveFrame) => boolean; resolve: (f: LiveFrame) => void }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as LiveFrame;
      this.frames.push(frame);
      for (const waiter of [...this.waiters]) {
        if (!waiter.matches(frame)) continue;
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    });
  }

  /** `search`: a query string for /api/live, e.g. '?mailbox=w3'. */
  static connect(kotak: RunningKotak, search = ''): Promise<LiveClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${kotak.url.replace(/^http/, 'ws')}/api/live${search}`);
      const client = new LiveClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  /** Resolves with the first frame of this type (already received or still to come) that matches. */
  next<T extends LiveFrame['type']>(type: T, predicate: (frame: FrameOf<T>) => boolean = () => true): Promise<FrameOf<T>> {
    const matches = (f: LiveFrame): boolean => f.type === type && predicate(f as FrameOf<T>);
    const seen = this.frames.find(matches);
    if (seen) return Promise.resolve(seen as FrameOf<T>);
    return new Promise((resolve) => this.waiters.push({ matches, resolve: resolve as (f: LiveFrame) => void }));
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Resolves with a message's relay jobs once every one has reached one of `statuses`, waking on each
 * `relay:updated` frame. The frames are counted before each read, so a frame that arrives while the
 * read is in flight is not missed.
 */
export async function settledDeliveries<T extends { status: string }>(kotak: RunningKotak, live: LiveClient, id: string, statuses: readonly string[] = ['delivered', 'failed']): Promise<T[]> {
  for (;;) {
    const seen = live.frames.length;
    const { body } = await getJson<{ deliveries: T[] }>(kotak, `/api/messages/${id}/deliveries`);
    if (body.deliveries.length > 0 && body.deliveries.every((d) => statuses.includes(d.status))) return body.deliveries;
    await live.next('relay:updated', () => live.frames.length > seen);
  }
}
