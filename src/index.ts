/**
 * Kotak as a library, for test suites:
 *
 *   const kotak = await startKotak({ smtp: '127.0.0.1:0', http: '127.0.0.1:0', db: ':memory:' });
 *   // send mail to 127.0.0.1:kotak.smtpPort, read it from kotak.url
 *   await kotak.stop();
 */
import { startApp, type RunningKotak } from './app.js';
import { resolveConfig, type RawSettings } from './config.js';

/**
 * The same settings as the command line, camel-cased; numbers where numbers make sense; a list
 * setting also as an array (as its flag repeated: `tagRule: ['from:a@b.test=A', 'urgent=B']`).
 */
export type KotakOptions = { [K in keyof RawSettings]?: string | number | boolean | readonly string[] };

/** Library defaults differ from the CLI's: free ports, nothing on disk, no log output. */
const LIBRARY_DEFAULTS: RawSettings = { smtp: '127.0.0.1:0', http: '127.0.0.1:0', db: ':memory:', logLevel: 'silent' };

export async function startKotak(options: KotakOptions = {}): Promise<RunningKotak> {
  const raw: RawSettings = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) raw[key as keyof RawSettings] = Array.isArray(value) ? value.map(String) : String(value);
  }
  return startApp(resolveConfig(raw, {}, LIBRARY_DEFAULTS));
}

export type { RunningKotak } from './app.js';
export type { Address, AttachmentInfo, Envelope, Header, MessageDetail, MessageSummary } from './mail/types.js';
export type { LiveFrame } from './live/protocol.js';
export type { MailEvents } from './events.js';
