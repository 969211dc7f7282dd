/** Display helpers: every one returns plain text, rendered as text. */
import type { Address } from './api.js';

export function formatAddress(address: Address | null | undefined): string {
  if (!address) return '(no sender)';
  return address.name ? `${address.name} <${address.address}>` : address.address;
}

export function shortAddress(address: Address | null | undefined): string {
  if (!address) return '(no sender)';
  return address.name || address.address;
}

export function formatAddresses(list: readonly Address[]): string {
  return list.map(formatAddress).join(', ');
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });

export function relativeTime(iso: string, now: number): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return 'just now';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 86400 * 30) return relative.format(Math.round(seconds / 86400), 'day');
  return new Date(iso).toLocaleDateString();
}

// One formatter, made once: toLocaleString with options builds a new one per call (~1 ms each),
// which the list paid for every row it rendered while scrolling.
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });

export function absoluteTime(iso: string): string {
  const date = new Date(iso);
  // The formatter throws on an invalid date, where toLocaleString said "Invalid Date".
  return Number.isNaN(date.getTime()) ? 'Invalid Date' : absolute.format(date);
}
