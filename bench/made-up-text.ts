/**
 * The made-up text of bench/million.ts's messages, shared by the benchmarks that build messages
 * like them (blob-codecs.ts, substring-scan.ts), so that all of them measure the same text.
 */

const SYLLABLES = ['ka', 'lo', 'mi', 're', 'su', 'ta', 'ne', 'vo', 'di', 'pa', 'go', 'ru', 'sel', 'mon', 'tar', 'vin'];

/** 5,000 made-up words; word i is drawn with a Zipf-like weight, so a few are common and most rare. */
export const VOCABULARY: readonly string[] = Array.from({ length: 5000 }, (_, i) => {
  let word = '';
  for (let n = i + 17; n > 0; n = Math.floor(n / SYLLABLES.length)) word += SYLLABLES[n % SYLLABLES.length];
  return word;
});

/** A 20 KB attachment, base64 in 76-character lines. */
export const PDF_BASE64 = Buffer.alloc(20 * 1024, 7).toString('base64').replace(/.{76}/g, '$&\r\n');

/** Words and sentences drawn with `next` (a seeded random source). */
export function madeUpText(next: () => number): { word: () => string; sentence: (words: number) => string } {
  const word = () => VOCABULARY[Math.min(VOCABULARY.length - 1, Math.floor(Math.exp(next() * Math.log(VOCABULARY.length))) - 1)]!;
  return { word, sentence: (words) => Array.from({ length: words }, word).join(' ') };
}
