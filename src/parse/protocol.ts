/** Messages between the parser pool and its worker threads. */
import type { MimeLimits } from '../mail/mime-limits.js';
import type { ExtractedPart, PartChecksums } from '../mail/parse.js';
import type { ParsedMessage } from '../mail/types.js';

export type WorkerRequest =
  /** `sizes` present: `raw` is already a skeleton (mail/skeleton.ts) with these stripped sizes. */
  | { readonly jobId: number; readonly kind: 'parse'; readonly raw: Uint8Array; readonly sizes?: readonly (readonly [string, number])[]; readonly limits: MimeLimits }
  | { readonly jobId: number; readonly kind: 'part' | 'checksums'; readonly raw: Uint8Array; readonly partId: string; readonly limits: MimeLimits };

export type WorkerReply =
  | { readonly jobId: number; readonly ok: true; readonly kind: 'parse'; readonly message: ParsedMessage }
  | { readonly jobId: number; readonly ok: true; readonly kind: 'part'; readonly part: ExtractedPart | null }
  | { readonly jobId: number; readonly ok: true; readonly kind: 'checksums'; readonly checksums: PartChecksums | null }
  | { readonly jobId: number; readonly ok: false; readonly error: string };
