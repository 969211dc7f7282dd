/**
 * A Kotak with scoped logins (issue 16), for tests that attack the mailbox boundary: tokens that
 * see w1, w2 or everything (--http-token-file), Basic users scoped by --http-auth-mailboxes
 * (alice: w1, carol: every mailbox, bob: left out), mail routed by `*@{mailbox}.inbox.test`, and
 * relay through a loopback smarthost so relay jobs exist. Seeded over real SMTP.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import WebSocket from 'ws';
import { newMessageId } from '../../src/mail/id.js';
import { transport, withKotak, type RunningKotak } from './kotak.js';
import { queuedId } from './smtp-client.js';
import { startReceiver, type SmtpReceiver } from './smtp-receiver.js';

export const W1_TOKEN = 'w1-token-0123456789abcdef';
export const W2_TOKEN = 'w2-token-0123456789abcdef';
export const ALL_TOKEN = 'all-token-0123456789abcdef';

export type Login =
  | { readonly token: string }
  | { readonly user: string; readonly password: string };

export const W1: Login = { token: W1_TOKEN };
export const W2: Login = { token: W2_TOKEN };
export const ALL: Login = { token: ALL_TOKEN };
/** Basic users of --http-auth: alice sees w1, carol every mailbox, bob has no line (sees nothing). */
export const ALICE: Login = { user: 'alice', password: 'alice password' };
export const CAROL: Login = { user: 'carol', password: 'carol password' };
export const BOB: Login = { user: 'bob', password: 'bob password' };

export function authorization(login: Login): string {
  return 'token' in login ? `Bearer ${login.token}` : `Basic ${Buffer.from(`${login.user}:${login.password}`).toString('base64')}`;
}

export interface Seeded {
  /** w1's messages, oldest first; the first has an HTML body and an attachment. */
  readonly w1: string[];
  /** w2's messages, oldest first; the first has an HTML body, an attachment and the word "zebrasecret". */
  readonly w2: string[];
  readonly default: string[];
}

export interface ScopedKotak {
  readonly kotak: RunningKotak;
  readonly receiver: SmtpReceiver;
  readonly seeded: Seeded;
  /** An HTTP request as `login`; the body parsed as JSON when it is JSON, else the text. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions read arbitrary JSON
  call(login: Login, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  /** Sends one message over SMTP to `to`; returns its id (routed by `*@{mailbox}.inbox.test`). */
  send(to: string, subject: string, extra?: { html?: string; attachment?: boolean }): Promise<string>;
  /** A WebSocket to `path` (/api/live or /api/events) as `login`, recording frames. */
  socket(login: Login, path: string): Promise<FrameRecorder>;
  /** The ids of a mailbox as the every-mailbox token sees them. */
  idsOf(mailbox: string): Promise<string[]>;
  stop(): Promise<void>;
}

/** An id in the shape of Kotak's, that no message has. */
export const unknownId = (): string => newMessageId();

export class FrameRecorder {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- frames are arbitrary JSON
  readonly frames: any[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- frames are arbitrary JSON
  private readonly waiting: { matches: (f: any) => boolean; resolve: (f: any) => void }[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame: unknown = JSON.parse(String(data));
      this.frames.push(frame);
      for (const w of [...this.waiting]) {
        if (!w.matches(frame)) continue;
        this.waiting.splice(this.waiting.indexOf(w), 1);
        w.resolve(frame);
      }
    });
  }

  /** The first frame (already received or still to come) that matches. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- frames are arbitrary JSON
  next(matches: (frame: any) => boolean): Promise<any> {
    const seen = this.frames.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiting.push({ matches, resolve }));
  }

  close(): void {
    this.ws.close();
  }
}

const ATTACHMENT = { filename: 'secret.txt', content: 'attachment bytes' };

export async function startScopedKotak(options: Record<string, string | number | boolean> = {}): Promise<ScopedKotak> {
  const dir = await mkdtemp(join(tmpdir(), 'kotak-scoped-'));
  const tokens = join(dir, 'tokens');
  const users = join(dir, 'users.htpasswd');
  const userMailboxes = join(dir, 'user-mailboxes');
  await writeFile(tokens, `# scoped tokens\n${W1_TOKEN} w1\n${W2_TOKEN} W2\n${ALL_TOKEN} *\n`);
  await writeFile(
    users,
    [ALICE, CAROL, BOB].map((l) => ('user' in l ? `${l.user}:${bcrypt.hashSync(l.password, 4)}` : '')).join('\n') + '\n',
  );
  await writeFile(userMailboxes, 'alice w1\ncarol *\n');
  const receiver = await startReceiver('127.0.0.1', 0);
  let kotak: RunningKotak;
  try {
    kotak = await withKotak({
      mailboxRoute: '*@{mailbox}.inbox.test',
      httpTokenFile: tokens,
      httpAuth: users,
      httpAuthMailboxes: userMailboxes,
      relayAllow: '*@relay.test',
      relaySmarthost: `127.0.0.1:${receiver.port}`,
      relaySmarthostTls: 'off',
      relayRetry: '100ms',
      ...options,
    });
  } catch (err) {
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const smtp = transport(kotak);

  const send: ScopedKotak['send'] = async (to, subject, extra = {}) => {
    const info = await smtp.sendMail({
      from: 'app@example.com',
      to,
      subject,
      text: `${subject} body`,
      ...(extra.html ? { html: extra.html } : {}),
      ...(extra.attachment ? { attachments: [ATTACHMENT] } : {}),
    });
    return queuedId(info.response);
  };

  const call: ScopedKotak['call'] = async (login, method, path, body) => {
    const headers: Record<string, string> = { Authorization: authorization(login) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(`${kotak.url}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: res.status, body: parsed, text };
  };

  const seeded: Seeded = {
    w1: [
      await send('one@w1.inbox.test', 'w1 first', { html: '<p>w1 html</p>', attachment: true }),
      await send('two@w1.inbox.test', 'w1 second'),
    ],
    w2: [
      await send('one@w2.inbox.test', 'w2 first zebrasecret', { html: '<p>zebrasecret html</p>', attachment: true }),
      await send('two@w2.inbox.test', 'w2 second zebrasecret'),
      await send('three@w2.inbox.test', 'w2 third zebrasecret'),
    ],
    default: [await send('someone@elsewhere.test', 'default first zebrasecret')],
  };

  return {
    kotak,
    receiver,
    seeded,
    call,
    send,
    socket(login, path) {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(`${kotak.url.replace(/^http/, 'ws')}${path}`, { headers: { Authorization: authorization(login) } });
        const recorder = new FrameRecorder(ws);
        ws.once('open', () => resolve(recorder));
        ws.once('error', reject);
      });
    },
    async idsOf(mailbox) {
      const { status, body } = await call(ALL, 'GET', `/api/messages?mailbox=${mailbox}&limit=1000`);
      if (status !== 200) throw new Error(`listing ${mailbox}: ${status}`);
      return (body.messages as { id: string }[]).map((m) => m.id).reverse();
    },
    async stop() {
      smtp.close();
      await kotak.stop();
      await receiver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
