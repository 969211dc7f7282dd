/** The waiter index may narrow but must never miss: a randomized check against checking every waiter. */
import { describe, expect, it } from 'vitest';
import { WaiterIndex } from '../../src/api/waiter-index.js';
import { compileMatcher, matchView, requiredSubstring } from '../../src/mail/search-match.js';
import { parseSearchQuery } from '../../src/mail/search-query.js';
import type { MessageSummary } from '../../src/mail/types.js';

function random(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const ALPHABET = 'abcde-@.ÄöT1';

describe('WaiterIndex', () => {
  it('finds every waiter that matches, over 2,000 random messages and 300 random waiters', () => {
    const rand = random(42);
    const word = (min: number, max: number) =>
      Array.from({ length: min + Math.floor(rand() * (max - min + 1)) }, () => ALPHABET[Math.floor(rand() * ALPHABET.length)]).join('');
    const index = new WaiterIndex<number>();
    const matchers: ((view: ReturnType<typeof matchView>) => string)[] = [];
    for (let i = 0; i < 300; i++) {
      const field = ['to', 'from', 'cc', 'subject'][i % 4]!;
      const text = rand() < 0.1 ? `is:unread` : `${field}:${word(1, 8)}${rand() < 0.2 ? ' subject:a' : ''}`;
      const query = parseSearchQuery(text);
      matchers.push(compileMatcher(query));
      index.add(i, requiredSubstring(query));
    }
    for (let i = 0; i < 300; i += 7) index.delete(i);
    let matches = 0;
    const wrong: string[] = [];
    for (let m = 0; m < 2000; m++) {
      const summary: MessageSummary = {
        id: `m${m}`, mailbox: 'default', receivedAt: new Date().toISOString(), from: { name: word(0, 6), address: word(3, 14) },
        to: [{ name: '', address: word(3, 14) }, { name: word(0, 4), address: word(3, 10) }], cc: [{ name: '', address: word(3, 10) }], bcc: [],
        subject: word(2, 30), snippet: '', size: 10, hasAttachments: false, read: false, messageId: null, tags: [],
      };
      const view = matchView(summary);
      const candidates = index.candidates(view);
      for (let w = 0; w < 300; w++) {
        if (w % 7 === 0) {
          if (candidates.has(w)) wrong.push(`deleted waiter ${w} still a candidate`);
          continue;
        }
        if (matchers[w]!(view) !== 'no-match') {
          matches += 1;
          if (!candidates.has(w)) wrong.push(`waiter ${w} missed for message ${m}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(matches).toBeGreaterThan(100);
  });
});
