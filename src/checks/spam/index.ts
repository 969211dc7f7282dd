/**
 * The spam check: a stored message's raw bytes scored by a real SpamAssassin spamd, with its
 * verdict and each rule that hit. Free of HTTP: the routes (Kotak's and Mailpit's) shape the
 * answer. Bounded: at most `maxBytes` of the message are sent (as spamc, whose default limit is
 * the same 500 KB, but cut at a line end rather than skipped), and the exchange has a time limit.
 */
import { parseReportRules, type SpamRule } from './report.js';
import { spamdReport, type SpamcOptions, type SpamdAddress, type SpamdReply } from './spamc.js';

export type { SpamRule } from './report.js';
export { describeSpamdAddress, type SpamdAddress } from './spamc.js';

export interface SpamCheckSettings {
  readonly spamd: SpamdAddress;
  readonly timeoutMs: number;
  /** The most bytes of a message sent to spamd. */
  readonly maxBytes: number;
}

export interface SpamCheckResult {
  readonly score: number;
  /** spamd's `required_score`: at or above it a message is spam. */
  readonly threshold: number;
  readonly isSpam: boolean;
  readonly rules: readonly SpamRule[];
  /** Whether only the first `checkedBytes` of the message were scored. */
  readonly truncated: boolean;
  readonly checkedBytes: number;
  readonly messageBytes: number;
}

export interface SpamCheck {
  /** Rejects with a KotakError: spamd_unavailable, spamd_timeout or spamd_failed. */
  check(raw: Buffer): Promise<SpamCheckResult>;
}

/** What the check sends through; tests and other transports may replace it. */
export type SpamdClient = (address: SpamdAddress, message: Buffer, options: SpamcOptions) => Promise<SpamdReply>;

/** The first `maxBytes` of a message, cut after its last line end within them. */
export function capMessage(raw: Buffer, maxBytes: number): Buffer {
  if (raw.length <= maxBytes) return raw;
  const lastLineEnd = raw.lastIndexOf(0x0a, maxBytes - 1);
  return raw.subarray(0, lastLineEnd === -1 ? maxBytes : lastLineEnd + 1);
}

export function createSpamCheck(settings: SpamCheckSettings, deps: { readonly client?: SpamdClient } = {}): SpamCheck {
  const client = deps.client ?? spamdReport;
  return {
    async check(raw) {
      const sent = capMessage(raw, settings.maxBytes);
      const reply = await client(settings.spamd, sent, { timeoutMs: settings.timeoutMs });
      return {
        score: reply.score,
        threshold: reply.threshold,
        isSpam: reply.isSpam,
        rules: parseReportRules(reply.report),
        truncated: sent.length < raw.length,
        checkedBytes: sent.length,
        messageBytes: raw.length,
      };
    },
  };
}
