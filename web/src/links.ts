/** Every link in a message, with its anchor text, for the Links tab. */

export interface MessageLink {
  readonly url: string;
  readonly text: string;
  /** Only these are made clickable; anything else (javascript:, data:, …) is shown as text. */
  readonly safe: boolean;
}

const SAFE_SCHEME = /^(https?:|mailto:)/i;
// A URL in plain text ends before whitespace, quotes and brackets, and not on trailing punctuation.
const TEXT_URL = /\bhttps?:\/\/[^\s<>"'()[\]]*[^\s<>"'()[\].,;:!?]/gi;

/** Whether a URL from a message (or about one) may be a clickable link in the inbox. */
export function isSafeLink(url: string): boolean {
  return SAFE_SCHEME.test(url);
}

export function extractLinks(html: string | null, text: string | null): MessageLink[] {
  const links: MessageLink[] = [];
  const seen = new Set<string>();
  const add = (url: string, anchor: string) => {
    const key = `${url}\u0000${anchor}`;
    if (!url || seen.has(key)) return;
    seen.add(key);
    links.push({ url, text: anchor, safe: isSafeLink(url) });
  };
  if (html) {
    // DOMParser documents are inert: no scripts run and no images or styles load.
    const doc = new DOMParser().parseFromString(html, 'text/html');
    for (const anchor of doc.querySelectorAll('a[href], area[href]')) {
      const label = (anchor.textContent ?? '').replace(/\s+/g, ' ').trim() || anchor.getAttribute('title') || anchor.getAttribute('alt') || '';
      add(anchor.getAttribute('href')!.trim(), label);
    }
  }
  if (text) for (const match of text.matchAll(TEXT_URL)) add(match[0], '');
  return links;
}
