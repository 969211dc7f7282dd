/**
 * Likely one-time codes in a message ("Your verification code is 482 913"): 4–8 digit tokens
 * close to a word such as code, OTP, verification or PIN, in the subject and the text part; when
 * those have none (no text part, an empty one, or one that only says "open the HTML version"), in
 * the subject and the HTML's text. The HTML is a fallback, not a second source: when the text part
 * has a code, other numbers in the HTML (a reference, an order) are not offered as codes. A test
 * asks for `message.codes[0]` instead of writing its own regular expression against each template.
 *
 * Precision over recall: a number that is part of a date, time, price, phone number, URL or
 * longer number is never a code, and a year-like number needs the keyword right before it.
 */
import { htmlToText } from './html-text.js';

/** Words that announce a code, in the languages transactional mail is commonly written in. */
const KEYWORDS = [
  'code', 'codes', 'otp', 'one-time', 'one time', 'verification', 'verify', 'passcode', 'pin', 'security', 'token', '2fa',
  'two-factor', 'mfa', 'login', 'log in', 'sign-in', 'sign in', 'confirmation', 'confirm', 'authentication',
  'código', 'codigo', 'kode', 'verifikasi', 'bestätigungscode', 'codice', 'код', '验证码', '認証コード', '인증',
];
// Words in alphabetic scripts must stand alone ("pin" is not in "shipping"); CJK words have no spaces around them.
const KEYWORD = new RegExp(
  KEYWORDS.map((k) => (/^[\p{Script=Latin}\p{Script=Cyrillic}\d -]+$/u.test(k) ? `(?<!\\p{L})${k}(?!\\p{L})` : k)).join('|'),
  'giu',
);

// 4–8 digits, or 3+3 / 4+4 digits split by a space or dash; not glued to other digits, letters,
// decimals, times, dates, currency, percentages or phone-number groups.
const CANDIDATE = /(?<![\p{L}\p{N}_.,:/$€£¥#+\-]|\d[ \u00a0])(\d{3}[ \u00a0-]\d{3}|\d{4}[ \u00a0-]\d{4}|\d{4,8})(?![\p{L}\p{N}_%]|[.,:\-/]\d|[ \u00a0]\d)/gu;

const URL = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;

/** A code is normally announced shortly before it ("code: 123456"), sometimes just after ("123456 is your code"). */
const BEFORE_WINDOW = 80;
const AFTER_WINDOW = 40;
/** After the number, only a sentence that names it counts ("123456 is your code"), not any later mention. */
const NAMES_IT = /^\s*(?:is|are|es|est|ist|adalah|は|[:=–—-])(?![\p{L}])/iu;
/** Year-like numbers (1900–2099) need the keyword this close before them. */
const YEAR_WINDOW = 25;

const MAX_SOURCE_CHARS = 200_000;

export function extractCodes(subject: string, text: string | null, html: string | null): string[] {
  const fromText = codesIn(subject, text ?? '');
  if (fromText.length > 0 || !html) return fromText;
  return codesIn(subject, htmlToText(html));
}

function codesIn(subject: string, body: string): string[] {
  const source = `${subject}\n${body}`.slice(0, MAX_SOURCE_CHARS).replace(URL, (url) => ' '.repeat(url.length));
  const keywords = [...source.matchAll(KEYWORD)].map((m) => ({ start: m.index, end: m.index + m[0].length }));
  if (keywords.length === 0) return [];

  const found: { code: string; distance: number; index: number }[] = [];
  for (const match of source.matchAll(CANDIDATE)) {
    const start = match.index;
    const end = start + match[0].length;
    const code = match[0].replace(/[ \u00a0-]/g, '');
    const yearLike = /^(19|20)\d\d$/.test(code);
    let best = Infinity;
    for (const k of keywords) {
      if (k.end <= start) {
        const gap = start - k.end;
        if (gap <= (yearLike ? YEAR_WINDOW : BEFORE_WINDOW)) best = Math.min(best, gap);
      } else if (k.start >= end && !yearLike) {
        const gap = k.start - end;
        if (gap <= AFTER_WINDOW && NAMES_IT.test(source.slice(end, k.start))) best = Math.min(best, gap + 1);
      }
    }
    if (best !== Infinity) found.push({ code, distance: best, index: start });
  }
  found.sort((a, b) => a.distance - b.distance || a.index - b.index);
  return [...new Set(found.map((f) => f.code))];
}
