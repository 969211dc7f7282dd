/**
 * Parsing of human-written sizes and durations, shared by the command line (`--max-message-size 50MB`,
 * `--max-age 14d`) and the search syntax (`larger:2kb`). Pure functions; they throw KotakError.
 */
import { KotakError } from './errors.js';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** "50MB", "1.5M", "2kb", "1024" → bytes. Units are binary (1 KB = 1024 bytes), as in Mailpit and Postfix. */
export function parseSize(input: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(input);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new KotakError('invalid_request', `"${input}" is not a size (examples: 1024, 2kb, 1.5M, 50MB)`);
  }
  return Math.round(Number(match[1]) * unit);
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** "90s", "36h", "14d", "1h30m" → milliseconds. */
export function parseDuration(input: string): number {
  const text = input.trim().toLowerCase();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
  let total = 0;
  let consumed = 0;
  for (let m = part.exec(text); m; m = part.exec(text)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
    consumed = m.index + m[0].length;
  }
  if (text === '' || consumed !== text.length) {
    throw new KotakError('invalid_request', `"${input}" is not a duration (examples: 90s, 36h, 14d, 1h30m)`);
  }
  return Math.round(total);
}
