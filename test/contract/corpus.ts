/**
 * The messages the store contract searches (test/contract/message-store-contract.ts), written as
 * raw RFC 5322 text and parsed by the real parser, and the searches with the messages each must
 * find. The expectations are what the SQLite store answers today (issue 20: the PostgreSQL store
 * must answer the same); the surprising ones say why next to them.
 */
import { rawMessage } from '../helpers/new-message.js';
import type { Envelope } from '../../src/mail/types.js';

export const DAY = 86_400_000;
const HOUR = 3_600_000;
/** 2026-11-20T12:00:00Z: every time below is UTC, so date searches do not depend on the server's zone. */
export const BASE = Date.parse('2026-11-20T12:00:00Z');

export interface CorpusMessage {
  /** How the tests name it. */
  readonly name: string;
  readonly mailbox: string;
  readonly receivedAt: number;
  readonly raw: Buffer;
  readonly envelope?: Partial<Envelope>;
  /** Set after all are stored, through the store (setTags). */
  readonly tags?: readonly string[];
  /** Marked read after all are stored, through the store (setRead). */
  readonly read?: boolean;
}

/** ~4 KB of base64 for an attachment, so that one message is clearly larger than the others. */
const PDF_BASE64 = Buffer.alloc(3000, '%PDF-1.4 contract ').toString('base64').replace(/.{76}/g, '$&\r\n');

const utf8Text = ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit'];

/**
 * In insertion order, which is the order of the store's lists (newest insert first): the times
 * never go back, and several are equal (the ties), so that only insertion order can order those.
 */
export const CORPUS: readonly CorpusMessage[] = [
  {
    name: 'welcome',
    mailbox: 'default',
    receivedAt: BASE,
    tags: ['Important'],
    read: true,
    raw: rawMessage([
      'From: Alice Ämberg <alice@example.com>',
      'To: bob@corp.test',
      'Subject: Welcome to Kotak',
      'Message-ID: <abc.123@mail.example.com>',
      'Date: Fri, 20 Nov 2026 12:00:00 +0000',
      ...utf8Text,
      '',
      'Please confirm your account: https://app.example.test/confirm?t=abc123',
    ]),
  },
  {
    name: 'confirmation',
    mailbox: 'default',
    receivedAt: BASE + HOUR,
    // The envelope sender is searched too: mailer and ~~ are nowhere else.
    envelope: { mailFrom: 'bounces~~7@mailer.test' },
    raw: rawMessage(['From: App <app@example.test>', 'To: dev@example.test', 'Subject: Confirmation received', '', 'Thanks, your confirmation was received.']),
  },
  {
    name: 'shipped',
    mailbox: 'default',
    receivedAt: BASE + DAY,
    // The second spelling of an existing tag joins it (tags are one spelling, without regard to case).
    tags: ['shipping', 'IMPORTANT'],
    raw: rawMessage([
      'From: Shop <NoReply@Shop.TEST>',
      'To: "Carol C" <Carol@Example.com>',
      'Cc: dave@corp.test',
      'Reply-To: Support <support@shop.test>',
      'Subject: Your ORDER #42 has shipped',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Your order 4242 has shipped. The quick brown fox jumps over the lazy dog.',
      '--b1',
      'Content-Type: application/pdf; name="invoice-2026-11.pdf"',
      'Content-Disposition: attachment; filename="invoice-2026-11.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      PDF_BASE64,
      '--b1--',
    ]),
  },
  {
    name: 'koeln',
    mailbox: 'w3',
    receivedAt: BASE + 2 * DAY,
    tags: ['w3-only'],
    read: true,
    raw: rawMessage([
      'From: Ödön <odon@example.test>',
      'To: team@w3.test',
      'Subject: Grüße aus KÖLN',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="alt"',
      '',
      '--alt',
      ...utf8Text,
      '',
      'Das Café öffnet um 9 Uhr.',
      '--alt',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      '<p>Besuchen Sie das <b>Café</b></p>',
      '--alt--',
    ]),
  },
  {
    name: 'cjk',
    mailbox: 'w3',
    receivedAt: BASE + 2 * DAY,
    raw: rawMessage([
      'From: shop@example.jp',
      'To: buyer@example.jp',
      'Subject: 注文確認 #7',
      ...utf8Text,
      '',
      'ご注文ありがとうございます。注文番号は 4242 です。 สวัสดีครับ 価格: $$ ...',
    ]),
  },
  {
    name: 'signup',
    mailbox: 'w3.b_c-1',
    receivedAt: BASE + 3 * DAY,
    // hidden@corp.test is only in the envelope: a Bcc recipient.
    envelope: { mailFrom: 'qa+signup-7@kotak.test', rcptTo: ['t-1a2b@kotak.test', 'hidden@corp.test'], user: 'ci-bot' },
    raw: rawMessage(['From: qa+signup-7@kotak.test', 'To: t-1a2b@kotak.test', 'Subject: Confirm 50% off_now', '', 'Use code SAVE-50 at checkout.']),
  },
  {
    name: 'fold',
    mailbox: 'default',
    receivedAt: BASE + 3 * DAY,
    raw: rawMessage([
      'From: Élodie Ünal <elodie@example.test>',
      'To: İpek <ipek@example.test>',
      'Subject: ÉCOLE Straße İstanbul ΣΟΦΊΑ résumé',
      ...utf8Text,
      '',
      'Körper GROSS DİYARBAKIR naïve',
    ]),
  },
  {
    name: 'lower',
    mailbox: 'default',
    receivedAt: BASE + 3 * DAY,
    raw: rawMessage(['From: elodie <lower@example.test>', 'To: x@example.test', 'Subject: école strasse istanbul σοφία', ...utf8Text, '', 'plain lower case']),
  },
  {
    name: 'nul',
    mailbox: 'default',
    receivedAt: BASE + 4 * DAY,
    // NULs as decoded headers and an 8-bit body can hold them: the list fields show U+FFFD instead
    // (src/mail/summary.ts); the raw bytes, the header list and the text keep them.
    raw: rawMessage([
      'From: "Ann =?utf-8?q?B=00ee?=" <nul@x.test>',
      'To: ghi@x.test',
      'Subject: =?utf-8?q?abc=00def?=',
      'Message-ID: <stu.vwx@x.test>',
      ...utf8Text,
      '',
      'before\0after \u2603snowman',
    ]),
  },
  {
    name: 'latin1',
    mailbox: 'default',
    receivedAt: BASE + 4 * DAY,
    // Raw 8-bit bytes, not UTF-8: a NUL, 0xFF and Latin-1 letters must come back byte for byte.
    raw: Buffer.concat([
      Buffer.from('From: latin@example.test\r\nTo: y@example.test\r\nSubject: Latin-1 body\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n', 'latin1'),
      Buffer.from('Grüße aus Düsseldorf \xff\x00 ende\r\n', 'latin1'),
    ]),
  },
  {
    name: 'inline',
    mailbox: 'other',
    receivedAt: BASE + 5 * DAY,
    raw: rawMessage([
      'From: News <news@example.test>',
      'To: reader@example.test',
      'Subject: Newsletter with logo',
      'MIME-Version: 1.0',
      'Content-Type: multipart/related; boundary="rel"',
      '',
      '--rel',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p>Only <i>htmlonlyword</i> here, ニュース <img src="cid:logo@x"></p>',
      '--rel',
      'Content-Type: image/png',
      'Content-Transfer-Encoding: base64',
      'Content-ID: <logo@x>',
      // ロゴ.png, in RFC 2231's encoding.
      "Content-Disposition: inline; filename*=utf-8''%E3%83%AD%E3%82%B4.png",
      '',
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
      '--rel--',
    ]),
  },
  {
    // Text and HTML of 512 characters or more, which a store may keep compressed (SQLite does,
    // and searches them apart): substring terms must still find what is inside.
    name: 'long',
    mailbox: 'default',
    receivedAt: BASE + 5 * DAY,
    raw: rawMessage([
      'From: long@example.test',
      'To: reader@example.test',
      'Subject: A longer one',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="long"',
      '',
      '--long',
      ...utf8Text,
      '',
      `${'filler '.repeat(40)}ソフトウェア ^^ middleword ${'filler '.repeat(40)}`,
      '--long',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      `<div>${'pad '.repeat(125)}<b>ピカピカ</b></div>`,
      '--long--',
    ]),
  },
  // Three at the very same time: only insertion order can order them (newest insert first).
  ...['alpha', 'beta', 'gamma'].map((word, i) => ({
    name: `tie${i + 1}`,
    mailbox: 'default',
    receivedAt: BASE + 6 * DAY,
    raw: rawMessage([`From: ties@example.test`, 'To: z@example.test', `Subject: Tie ${word}`, '', 'tiebreak']),
  })),
];

export const NAMES: readonly string[] = CORPUS.map((m) => m.name);

/** Every corpus message but these. */
export function allBut(...names: string[]): string[] {
  return NAMES.filter((name) => !names.includes(name));
}

/** What a seeded store knows of its corpus, for searches that need figures (sizes). */
export interface SeededFacts {
  sizeOf(name: string): number;
}

/**
 * Each search and the corpus messages it finds. Covers every operator of src/mail/search-query.ts
 * as src/store/search-sql.ts answers it: words (prefixes), phrases, negation, the field operators
 * (substrings, ASCII-only case folding on the subject), tag:, is:, has:, before:/after:,
 * larger:/smaller:, mailbox:, substring terms (CJK, Thai, punctuation), NULs, Unicode folding.
 */
export function searchCases(facts: SeededFacts): readonly (readonly [query: string, names: readonly string[]])[] {
  const shipped = facts.sizeOf('shipped');
  const smallest = Math.min(...NAMES.map((name) => facts.sizeOf(name)));
  return [
    // No terms: everything.
    ['', NAMES],
    // Words match as prefixes of the words of subject, addresses (headers and envelope), text, HTML text and attachment names.
    ['confirm', ['welcome', 'confirmation', 'signup']],
    ['confirmation', ['confirmation']],
    ['CONFIRM', ['welcome', 'confirmation', 'signup']],
    ['kotak', ['welcome', 'signup']],
    ['corp.test', ['welcome', 'shipped', 'signup']],
    ['invoice', ['shipped']],
    ['invoice-2026', ['shipped']],
    ['4242', ['shipped', 'cjk']],
    ['besuchen', ['koeln']],
    ['htmlonly', ['inline']],
    ['checkout', ['signup']],
    ['tiebreak', ['tie1', 'tie2', 'tie3']],
    ['nothingmatches', []],
    // Words are split at punctuation as the tokenizer splits them: a term becomes a phrase of its
    // words, the last a prefix.
    ['off_now', ['signup']],
    ['save-50', ['signup']],
    ['abc.123', []],
    ['app.example.test/confirm', ['welcome']],
    ['team@w3.test', ['koeln']],
    ['hidden', ['signup']],
    ['grü', ['koeln', 'latin1']],
    ['straß', ['fold']],
    ['écol', ['fold', 'lower']],
    ['ünal', ['fold']],
    ['UNAL', ['fold']],
    // Phrases: the words in order, not as prefixes.
    ['"your account"', ['welcome']],
    ['"brown fox"', ['shipped']],
    ['"fox brown"', []],
    ['"confirm"', ['welcome', 'signup']],
    // Negation, with - and !.
    ['-confirm', allBut('welcome', 'confirmation', 'signup')],
    ['!confirm', allBut('welcome', 'confirmation', 'signup')],
    ['quick -lazy', []],
    ['quick', ['shipped']],
    ['-"brown fox"', allBut('shipped')],
    // Diacritics and case in words: the full-text tokenizer folds case (Unicode) and removes diacritics.
    ['cafe', ['koeln']],
    ['CAFÉ', ['koeln']],
    ['koln', ['koeln']],
    ['grüße', ['koeln', 'latin1']],
    ['GRUSSE', []],
    ['dusseldorf', ['latin1']],
    ['école', ['fold', 'lower']],
    ['ÉCOLE', ['fold', 'lower']],
    ['ecole', ['fold', 'lower']],
    ['résumé', ['fold']],
    ['resume', ['fold']],
    ['naive', ['fold']],
    ['körper', ['fold']],
    ['KÖRPER', ['fold']],
    ['koerper', []],
    // ß is its own letter: neither "ss" nor folded away; ẞ (capital sharp s) folds to it.
    ['straße', ['fold']],
    ['STRAẞE', ['fold']],
    ['strasse', ['lower']],
    ['STRASSE', ['lower']],
    // Turkish dotted capital I folds to a plain i (its dot is a diacritic).
    ['istanbul', ['fold', 'lower']],
    ['İstanbul', ['fold', 'lower']],
    ['ISTANBUL', ['fold', 'lower']],
    ['diyarbakir', ['fold']],
    // Greek: case folds, but the tonos is kept (ΣΟΦΙΑ without it finds nothing).
    ['σοφία', ['fold', 'lower']],
    ['ΣΟΦΊΑ', ['fold', 'lower']],
    ['ΣΟΦΙΑ', []],
    // Field operators: substrings of the lower-cased "Name <address>" lists.
    ['to:bob', ['welcome']],
    ['to:BOB@corp', ['welcome']],
    ['to:carol', ['shipped']],
    ['to:"carol c"', ['shipped']],
    ['to:t-1a2b@kotak.test', ['signup']],
    ['to:ipek', ['fold']],
    ['to:İpek', ['fold']],
    ['from:alice', ['welcome']],
    ['from:ämberg', ['welcome']],
    ['from:ÄMBERG', ['welcome']],
    ['from:shop.test', ['shipped']],
    ['from:noreply', ['shipped']],
    ['from:qa+signup', ['signup']],
    ['from:ödön', ['koeln']],
    ['from:ÖDÖN', ['koeln']],
    ['from:élodie', ['fold']],
    ['from:ÉLODIE', ['fold']],
    ['from:elodie', ['fold', 'lower']],
    ['cc:dave', ['shipped']],
    ['cc:bob', []],
    // Bcc: envelope recipients named in no To or Cc header.
    ['bcc:hidden', ['signup']],
    ['bcc:t-1a2b', []],
    ['reply-to:support', ['shipped']],
    ['reply-to:shop', ['shipped']],
    ['addressed:support', ['shipped']],
    ['addressed:corp.test', ['welcome', 'shipped', 'signup']],
    ['addressed:hidden', ['signup']],
    ['-from:alice', allBut('welcome')],
    // The subject as written: LIKE folds ASCII letters only, so KÖLN's Ö is not found as ö (nor as Ö:
    // the value is lower-cased first). Addresses are stored lower-cased, so from:ÖDÖN does find Ödön.
    ['subject:welcome', ['welcome']],
    ['subject:WELCOME', ['welcome']],
    ['subject:order', ['shipped']],
    ['subject:"has shipped"', ['shipped']],
    ['subject:grüße', ['koeln']],
    ['subject:köln', []],
    ['subject:KÖLN', []],
    ['subject:école', ['lower']],
    ['subject:ÉCOLE', ['lower']],
    ['subject:ecole', []],
    ['subject:straße', ['fold']],
    ['subject:STRAẞE', ['fold']],
    ['subject:STRASSE', ['lower']],
    ['subject:istanbul', ['lower']],
    // İ lower-cases to i + U+0307 (two characters), which no subject holds.
    ['subject:İstanbul', []],
    ['subject:σοφία', ['lower']],
    ['subject:ΣΟΦΊΑ', ['lower']],
    // LIKE's wildcards are searched for as themselves.
    ['subject:#42', ['shipped']],
    ['subject:50%', ['signup']],
    ['subject:%', ['signup']],
    ['subject:off_now', ['signup']],
    ['subject:_', ['signup']],
    ['subject:注文', ['cjk']],
    ['message-id:abc.123', ['welcome']],
    ['message-id:<abc.123@mail.example.com>', ['welcome']],
    ['message-id:ABC', ['welcome']],
    ['message-id:vwx', ['nul']],
    ['-message-id:abc', allBut('welcome')],
    // Tags: the whole name, without regard to case.
    ['tag:important', ['welcome', 'shipped']],
    ['tag:IMPORTANT', ['welcome', 'shipped']],
    ['tag:import', []],
    ['tag:shipping', ['shipped']],
    ['tag:w3-only', ['koeln']],
    ['-tag:important', allBut('welcome', 'shipped')],
    // Flags.
    ['is:read', ['welcome', 'koeln']],
    ['is:unread', allBut('welcome', 'koeln')],
    ['-is:read', allBut('welcome', 'koeln')],
    ['-is:unread', ['welcome', 'koeln']],
    ['is:tagged', ['welcome', 'shipped', 'koeln']],
    ['-is:tagged', allBut('welcome', 'shipped', 'koeln')],
    ['has:attachment', ['shipped']],
    ['has:attachments', ['shipped']],
    ['-has:attachment', allBut('shipped')],
    ['has:inline', ['inline']],
    ['has:inlines', ['inline']],
    ['-has:inline', allBut('inline')],
    // Dates: before: is strictly earlier, after: at or later (the ties sit exactly on the bound).
    ['before:2026-11-21T12:00:00Z', ['welcome', 'confirmation']],
    ['before:2026-11-20T12:00:00Z', []],
    ['after:2026-11-26T12:00:00Z', ['tie1', 'tie2', 'tie3']],
    ['before:2026-11-26T12:00:00Z', allBut('tie1', 'tie2', 'tie3')],
    ['after:2026-11-22T12:00:00Z before:2026-11-24T12:00:00Z', ['koeln', 'cjk', 'signup', 'fold', 'lower']],
    ['-after:2026-11-20T13:00:00Z', ['welcome']],
    // 14:00+02:00 is 12:00Z, the first message's time.
    ['after:2026-11-20T14:00+02:00', NAMES],
    // Sizes: larger: is strictly more, smaller: strictly fewer bytes of the raw message.
    [`larger:${shipped - 1}`, ['shipped']],
    [`larger:${shipped}`, []],
    [`smaller:${shipped}`, allBut('shipped')],
    [`smaller:${smallest}`, []],
    ['larger:2kb', ['shipped']],
    ['-larger:2kb', allBut('shipped')],
    // Mailboxes: the whole (folded) name.
    ['mailbox:w3', ['koeln', 'cjk']],
    ['mailbox:W3', ['koeln', 'cjk']],
    ['mailbox:w3.b_c-1', ['signup']],
    ['mailbox:w', []],
    ['mailbox:other', ['inline']],
    ['-mailbox:default', ['koeln', 'cjk', 'signup', 'inline']],
    ['mailbox:w3 -subject:#7', ['koeln']],
    // Substring terms (scripts without spaces, terms without letters or digits): LIKE over subject,
    // addresses, envelope sender, text, attachment names and (for non-ASCII terms) the HTML.
    ['注文', ['cjk']],
    ['確認', ['cjk']],
    ['ありがとう', ['cjk']],
    ['สวัสดี', ['cjk']],
    ['-注文', allBut('cjk')],
    ['"注文確認 #7"', ['cjk']],
    ['50%', ['signup']],
    ['%', ['signup']],
    ['_', ['signup']],
    // A term with a letter or digit is a word: its punctuation is dropped, so #42 is the prefix 42.
    ['#42', ['shipped', 'cjk']],
    ['$$', ['cjk']],
    ['...', ['cjk']],
    ['+', ['signup']],
    ['~~', ['confirmation']],
    ['mailer', ['confirmation']],
    ['ニュース', ['inline']],
    ['ロゴ', ['inline']],
    ['ソフト', ['long']],
    ['^^', ['long']],
    ['ピカピカ', ['long']],
    ['middleword', ['long']],
    ['-ソフト filler', []],
    // An ASCII-only substring term does not look into the HTML, whose markup would match it.
    ['="', []],
    ['</', []],
    ['-%', allBut('signup')],
    // NULs: the list fields hold U+FFFD in their place; words on either side are found.
    ['abc', ['welcome', 'nul']],
    ['def', ['nul']],
    ['subject:def', ['nul']],
    ['subject:abc', ['nul']],
    ['subject:"abc\uFFFDdef"', ['nul']],
    ['from:bee', []],
    ['from:"b\uFFFDee"', ['nul']],
    ['before', ['nul']],
    // After a NUL too: SQL's substr() and LIKE read a text only up to its first NUL.
    ['after', ['nul']],
    ['"after snowman"', ['nul']],
    ['\u2603', ['nul']],
    ['ende', ['latin1']],
    // Combinations: every term must hold.
    ['confirm from:alice is:read', ['welcome']],
    ['confirm -from:alice', ['confirmation', 'signup']],
    ['tiebreak -subject:beta', ['tie1', 'tie3']],
    ['4242 mailbox:w3', ['cjk']],
    ['kotak -to:bob', ['signup']],
    ['mailbox:default has:attachment tag:shipping larger:1kb is:unread', ['shipped']],
    ['注文 4242', ['cjk']],
    ['注文 -4242', []],
    ['école from:elodie -subject:école', ['fold']],
  ];
}
