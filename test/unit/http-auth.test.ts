/**
 * The pure parts of HTTP hardening: credential checks (Basic, Bearer, token as Basic password,
 * the remembered-success cache), which origins are admitted, download headers for hostile
 * names and types, settings parsing and the start-up warnings.
 */
import { describe, expect, it } from 'vitest';
import { createHttpAuth, type PasswordCheck } from '../../src/api/auth.js';
import { parseGrants, type Grant } from '../../src/auth/mailbox-grants.js';
import { ALL_MAILBOXES, onlyMailboxes } from '../../src/mail/mailbox-scope.js';
import { attachmentDisposition, downloadHeaders, safeContentType } from '../../src/api/download.js';
import { createOriginPolicy, type OriginFacts } from '../../src/api/origin.js';
import { resolveConfig } from '../../src/config.js';
import { KotakError } from '../../src/errors.js';
import { exposureWarnings, isLoopback } from '../../src/http-auth.js';
import { parseHtpasswd } from '../../src/auth/htpasswd.js';
import { testVerifier } from '../helpers/verifier.js';

// `htpasswd -nbB -C 4 carol s3cret` (Apache 2.4), as in htpasswd.test.ts.
const CAROL = 'carol:$2y$04$T5rjTSeULm5xRRYv69qZYuSV.vTAnSGyDKItuu4D.Inop.N1vzrhC';
const TOKEN = 'ci-token-0123456789abcdef';

/** A token that sees every mailbox, as `--http-token` gives. */
const allMailboxes = (name: string): Grant => ({ name, scope: ALL_MAILBOXES });

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Counts how often the password store is asked, to see the cache work. */
function counting(check: PasswordCheck): PasswordCheck & { calls: number } {
  const counted = {
    calls: 0,
    verify(user: string, password: string) {
      counted.calls++;
      return check.verify(user, password);
    },
  };
  return counted;
}

describe('createHttpAuth', () => {
  const passwords = parseHtpasswd(CAROL, testVerifier());
  const auth = createHttpAuth({ passwords, tokens: [allMailboxes(TOKEN), allMailboxes('second-token-abcdef0123')] });

  it.each([
    ['no header', undefined, { ok: false, reason: 'missing' }],
    ['an empty header', '  ', { ok: false, reason: 'missing' }],
    ['the right password', basic('carol', 's3cret'), { ok: true, user: 'carol', scope: ALL_MAILBOXES }],
    ['a wrong password', basic('carol', 'S3cret'), { ok: false, reason: 'wrong' }],
    ['an unknown user', basic('mallory', 's3cret'), { ok: false, reason: 'wrong' }],
    ['no colon', `Basic ${Buffer.from('carol').toString('base64')}`, { ok: false, reason: 'wrong' }],
    ['not base64', 'Basic !!!', { ok: false, reason: 'wrong' }],
    ['a token as Bearer', `Bearer ${TOKEN}`, { ok: true, user: null, scope: ALL_MAILBOXES }],
    ['the second token, scheme in any case', 'bEaReR second-token-abcdef0123', { ok: true, user: null, scope: ALL_MAILBOXES }],
    ['a token one character short', `Bearer ${TOKEN.slice(0, -1)}`, { ok: false, reason: 'wrong' }],
    ['a token with a character more', `Bearer ${TOKEN}x`, { ok: false, reason: 'wrong' }],
    ['a token as the Basic password', basic('ci', TOKEN), { ok: true, user: 'ci', scope: ALL_MAILBOXES }],
    ['a token with no user name', basic('', TOKEN), { ok: true, user: '', scope: ALL_MAILBOXES }],
    ['a password as Bearer', 'Bearer s3cret', { ok: false, reason: 'wrong' }],
    ['an unknown scheme', `Token ${TOKEN}`, { ok: false, reason: 'wrong' }],
    ['extra words', `Bearer ${TOKEN} more`, { ok: false, reason: 'wrong' }],
  ] as const)('%s', async (_name, header, expected) => {
    expect(await auth.check(header)).toEqual(expected);
  });

  it('remembers a verified Basic header for five minutes, never a failed one', async () => {
    let now = 1_000_000;
    const store = counting(passwords);
    const cached = createHttpAuth({ passwords: store, tokens: [] }, { now: () => now });
    for (let i = 0; i < 3; i++) expect((await cached.check(basic('carol', 's3cret'))).ok).toBe(true);
    expect(store.calls).toBe(1);
    for (let i = 0; i < 3; i++) expect((await cached.check(basic('carol', 'nope'))).ok).toBe(false);
    expect(store.calls).toBe(4);
    now += 5 * 60_000 + 1;
    expect((await cached.check(basic('carol', 's3cret'))).ok).toBe(true);
    expect(store.calls).toBe(5);
  });

  it('after 10 wrong passwords from one address in a minute, refuses its new Basic logins unchecked until the minute ends', async () => {
    let now = 5_000_000;
    const store = counting(passwords);
    const limited = createHttpAuth({ passwords: store, tokens: [allMailboxes(TOKEN)] }, { now: () => now });
    const loggedIn = basic('carol', 's3cret');
    expect((await limited.check(loggedIn, '10.0.0.1')).ok).toBe(true);
    for (let i = 0; i < 10; i++) expect(await limited.check(basic('carol', `guess-${i}`), '10.0.0.1')).toEqual({ ok: false, reason: 'wrong' });
    const calls = store.calls;
    now += 20_000;
    // The right password from that address is refused without being checked...
    expect(await limited.check(basic('dave', 'right-or-wrong'), '10.0.0.1')).toEqual({ ok: false, reason: 'throttled', retryAfterS: 40 });
    expect(store.calls).toBe(calls);
    // ...but a browser already logged in, tokens, and other addresses go on.
    expect(await limited.check(loggedIn, '10.0.0.1')).toEqual({ ok: true, user: 'carol', scope: ALL_MAILBOXES });
    expect((await limited.check(`Bearer ${TOKEN}`, '10.0.0.1')).ok).toBe(true);
    expect((await limited.check(basic('ci', TOKEN), '10.0.0.2')).ok).toBe(true);
    expect(await limited.check(basic('carol', 's3cret '), '10.0.0.2')).toEqual({ ok: false, reason: 'wrong' });
    now += 40_001;
    expect(await limited.check(basic('carol', 'still wrong'), '10.0.0.1')).toEqual({ ok: false, reason: 'wrong' });
  });

  it('lets a token in as the Basic password from an address locked by others\' wrong passwords, as it does as Bearer', async () => {
    const limited = createHttpAuth({ passwords, tokens: [allMailboxes(TOKEN)] });
    for (let i = 0; i < 10; i++) expect(await limited.check(basic('carol', `guess-${i}`), '10.0.0.3')).toEqual({ ok: false, reason: 'wrong' });
    expect(await limited.check(basic('carol', 'another guess'), '10.0.0.3')).toMatchObject({ ok: false, reason: 'throttled' });
    // A CI job behind the same proxy, never seen before: its token is not a guessable password.
    expect(await limited.check(basic('ci', TOKEN), '10.0.0.3')).toEqual({ ok: true, user: 'ci', scope: ALL_MAILBOXES });
    expect(await limited.check(`Bearer ${TOKEN}`, '10.0.0.3')).toEqual({ ok: true, user: null, scope: ALL_MAILBOXES });
    // A wrong token as the Basic password is still refused unchecked.
    expect(await limited.check(basic('ci', `${TOKEN}x`), '10.0.0.3')).toMatchObject({ ok: false, reason: 'throttled' });
  });

  it('meets the limit with parallel guesses too: at most 10 of a burst are checked', async () => {
    const store = counting(passwords);
    const limited = createHttpAuth({ passwords: store, tokens: [] });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => limited.check(basic('carol', `burst ${i}`), '10.0.0.9')));
    expect(results.filter((r) => !r.ok && r.reason === 'wrong')).toHaveLength(10);
    expect(results.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(40);
    expect(store.calls).toBe(10);
  });

  it('works with tokens alone (no password file)', async () => {
    const tokensOnly = createHttpAuth({ passwords: null, tokens: [allMailboxes(TOKEN)] });
    expect((await tokensOnly.check(`Bearer ${TOKEN}`)).ok).toBe(true);
    expect((await tokensOnly.check(basic('anyone', TOKEN))).ok).toBe(true);
    expect((await tokensOnly.check(basic('carol', 's3cret'))).ok).toBe(false);
  });
});

describe('scoped logins', () => {
  const passwords = parseHtpasswd(`${CAROL}\ndave:plain-pass\nerin:plain-erin`, testVerifier());
  const scoped = createHttpAuth({
    passwords,
    tokens: [allMailboxes(TOKEN), { name: 'w3-token-0123456789abcdef', scope: onlyMailboxes(['w3', 'w4']) }],
    userScopes: new Map([['carol', onlyMailboxes(['team-a'])], ['dave', ALL_MAILBOXES]]),
  });

  it('gives each login its own mailboxes: token line, user line, or none for a user left out', async () => {
    expect(await scoped.check('Bearer w3-token-0123456789abcdef')).toEqual({ ok: true, user: null, scope: onlyMailboxes(['w3', 'w4']) });
    expect(await scoped.check(`Bearer ${TOKEN}`)).toEqual({ ok: true, user: null, scope: ALL_MAILBOXES });
    expect(await scoped.check(basic('carol', 's3cret'))).toEqual({ ok: true, user: 'carol', scope: onlyMailboxes(['team-a']) });
    expect(await scoped.check(basic('dave', 'plain-pass'))).toEqual({ ok: true, user: 'dave', scope: ALL_MAILBOXES });
    expect(await scoped.check(basic('erin', 'plain-erin'))).toEqual({ ok: true, user: 'erin', scope: onlyMailboxes([]) });
  });

  it("gives a token used as the Basic password the token's mailboxes, not the user's", async () => {
    expect(await scoped.check(basic('dave', 'w3-token-0123456789abcdef'))).toEqual({ ok: true, user: 'dave', scope: onlyMailboxes(['w3', 'w4']) });
    // A remembered login keeps its scope.
    expect(await scoped.check(basic('dave', 'w3-token-0123456789abcdef'))).toEqual({ ok: true, user: 'dave', scope: onlyMailboxes(['w3', 'w4']) });
  });
});

describe('parseGrants', () => {
  it('reads one token a line, skipping blanks and comments; a token alone sees every mailbox', () => {
    expect(parseGrants('\uFEFF# CI\r\nabc-123\n\n  def-456  \n#x\n', 'tokens', 'token')).toEqual([allMailboxes('abc-123'), allMailboxes('def-456')]);
  });

  it('reads the mailboxes after the name: commas, spaces, case-folded, or *', () => {
    expect(parseGrants('t1 w3,w4\nt2 W5, w6\nt3 *\n', 'tokens', 'token')).toEqual([
      { name: 't1', scope: onlyMailboxes(['w3', 'w4']) },
      { name: 't2', scope: onlyMailboxes(['w5', 'w6']) },
      allMailboxes('t3'),
    ]);
  });

  it.each([
    ['a bad mailbox name', 'ok\ntok Bad/Name\n', /tokens\.txt:2: "Bad\/Name" is not a mailbox name/],
    ['* with names', 'tok *,w3\n', /tokens\.txt:1: "\*" \(every mailbox\) stands alone/],
    ['a repeated token, without printing it', 'secret-one\nsecret-one w3\n', /^tokens\.txt:2: the same token twice$/],
    ['a control character', 'tok\u0001en\n', /tokens\.txt:1: a token is printable ASCII/],
  ])('refuses %s, naming the line', (_name, text, message) => {
    expect(() => parseGrants(text, 'tokens.txt', 'token')).toThrow(message);
  });

  it('wants every user line to say what it grants', () => {
    expect(parseGrants('carol team-a\ndave *\n', 'users', 'user')).toEqual([{ name: 'carol', scope: onlyMailboxes(['team-a']) }, allMailboxes('dave')]);
    expect(() => parseGrants('carol\n', 'users', 'user')).toThrow(/users:1: say which mailboxes user "carol" may see/);
  });
});

describe('createOriginPolicy', () => {
  const facts = (origin: string | undefined, extra: Partial<OriginFacts> = {}): OriginFacts => ({
    origin,
    host: '127.0.0.1:8025',
    forwardedHost: undefined,
    authorization: undefined,
    ...extra,
  });

  it('admits clients without an Origin, and the page served by the same host', () => {
    const policy = createOriginPolicy([]);
    expect(policy.admits(facts(undefined))).toBe(true);
    expect(policy.admits(facts('http://127.0.0.1:8025'))).toBe(true);
    // Behind a TLS-terminating proxy the scheme differs; the host decides.
    expect(policy.admits(facts('https://mail.example.test', { host: 'mail.example.test' }))).toBe(true);
    expect(policy.admits(facts('https://mail.example.test', { host: 'mail.example.test:443' }))).toBe(true);
    expect(policy.admits(facts('https://mail.example.test', { host: '127.0.0.1:8025', forwardedHost: 'mail.example.test, proxy.internal' }))).toBe(true);
  });

  it('refuses other pages, null origins and look-alikes', () => {
    const policy = createOriginPolicy([]);
    for (const origin of ['http://evil.test', 'null', 'http://127.0.0.1:8026', 'http://127.0.0.1:8025.evil.test', 'file://', 'not a url']) {
      expect(policy.admits(facts(origin)), origin).toBe(false);
    }
    expect(policy.corsHeaders('http://evil.test')).toBeNull();
    expect(policy.corsEnabled).toBe(false);
  });

  it('admits exact --http-cors origins, with credentials', () => {
    const policy = createOriginPolicy(['https://app.example.test:3000']);
    expect(policy.admits(facts('https://app.example.test:3000', { authorization: basic('a', 'b') }))).toBe(true);
    expect(policy.admits(facts('https://app.example.test'))).toBe(false);
    expect(policy.admits(facts('http://app.example.test:3000'))).toBe(false);
    expect(policy.corsHeaders('https://app.example.test:3000')).toMatchObject({
      'Access-Control-Allow-Origin': 'https://app.example.test:3000',
      'Access-Control-Allow-Credentials': 'true',
    });
  });

  it("admits any page with '*', but never with Basic credentials (the browser's, not the page's)", () => {
    const policy = createOriginPolicy(['*']);
    expect(policy.admits(facts('http://evil.test'))).toBe(true);
    expect(policy.admits(facts('http://evil.test', { authorization: `Bearer ${TOKEN}` }))).toBe(true);
    expect(policy.admits(facts('http://evil.test', { authorization: basic('carol', 's3cret') }))).toBe(false);
    expect(policy.corsHeaders('http://evil.test')).toEqual({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'Content-Disposition, X-Remote-Blocked' });
  });
});

describe('download headers', () => {
  it.each([
    ['CR LF header injection', 'a.txt\r\nSet-Cookie: x=1', 'attachment; filename="a.txtSet-Cookie: x=1"; filename*=UTF-8\'\'a.txtSet-Cookie%3A%20x%3D1'],
    ['quotes and backslashes', 'say "hi"\\.txt', `attachment; filename=".txt"; filename*=UTF-8''.txt`],
    ['a quote closing the parameter', 'x.pdf"; filename="evil.html', `attachment; filename="x.pdf__ filename=_evil.html"; filename*=UTF-8''x.pdf%22%3B%20filename%3D%22evil.html`],
    ['a semicolon and a percent', 'a;b%41.txt', `attachment; filename="a_b_41.txt"; filename*=UTF-8''a%3Bb%2541.txt`],
    ['path traversal', '../../etc/passwd', `attachment; filename="passwd"; filename*=UTF-8''passwd`],
    ['Windows path traversal', '..\\..\\Windows\\win.ini', `attachment; filename="win.ini"; filename*=UTF-8''win.ini`],
    ['only dots', '..', `attachment; filename="part-2"; filename*=UTF-8''part-2`],
    ['non-ASCII', 'Résumé 履歴書.pdf', `attachment; filename="R_sum_ ___.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E5%B1%A5%E6%AD%B4%E6%9B%B8.pdf`],
    ['a right-to-left override', 'invoice\u202Efdp.exe', `attachment; filename="invoicefdp.exe"; filename*=UTF-8''invoicefdp.exe`],
    ['a lone surrogate', 'a\ud800b.txt', `attachment; filename="a_b.txt"; filename*=UTF-8''a%EF%BF%BDb.txt`],
    ['RFC 8187 attr-chars kept, others encoded', "it's (1)*.txt", `attachment; filename="it's (1)*.txt"; filename*=UTF-8''it%27s%20%281%29%2A.txt`],
    ['no name', null, `attachment; filename="part-2"; filename*=UTF-8''part-2`],
  ] as const)('%s', (_name, filename, expected) => {
    const header = attachmentDisposition(filename, 'part-2');
    expect(header).toBe(expected);
    expect(header).not.toMatch(/[\r\n\u0000-\u001f\u007f]/);
    // Exactly two parameters, whatever the name held.
    expect(header.match(/; filename/g)).toHaveLength(2);
  });

  it('never serves a type a browser renders as a document or runs', () => {
    for (const type of ['text/html', 'TEXT/HTML; charset=utf-8', 'image/svg+xml', 'application/xhtml+xml', 'text/xml', 'application/xml', 'application/rss+xml', 'text/xsl', 'application/javascript', 'text/javascript', 'application/x-javascript', 'text/vbscript', 'multipart/x-mixed-replace; boundary=x', '', 'html', 'text/html\r\nX: y']) {
      expect(safeContentType(type), type).toBe('application/octet-stream');
    }
    for (const type of ['application/pdf', 'image/png', 'text/plain', 'text/calendar', 'application/json']) expect(safeContentType(type)).toBe(type);
  });

  it('adds nosniff and a sandboxing CSP to every download', () => {
    expect(downloadHeaders({ contentType: 'image/svg+xml', filename: 'logo.svg' }, 'x')).toEqual({
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename="logo.svg"; filename*=UTF-8''logo.svg`,
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; sandbox",
      'X-Content-Type-Options': 'nosniff',
    });
  });
});

describe('settings', () => {
  it('reads the HTTP access flags', () => {
    const config = resolveConfig({ httpAuth: 'users.htpasswd', httpTokens: ' a-token-1 , b-token-2,', httpCors: 'https://App.Example.test:443/, http://localhost:3000,*' });
    expect(config.httpAuth).toBe('users.htpasswd');
    expect(config.httpTokens).toEqual(['a-token-1', 'b-token-2']);
    expect(config.httpCors).toEqual(['https://app.example.test', 'http://localhost:3000', '*']);
    const unset = resolveConfig({});
    expect([unset.httpAuth, unset.httpTokens, unset.httpTokenFile, unset.httpCors]).toEqual([null, [], null, []]);
    expect(resolveConfig({}, { KOTAK_HTTP_TOKEN: 'from-env-123' }).httpTokens).toEqual(['from-env-123']);
  });

  it.each([
    ['httpCors', 'https://app.test/path'],
    ['httpCors', 'app.test:3000'],
    ['httpCors', 'ftp://app.test'],
    ['httpCors', 'https://user@app.test'],
    ['httpCors', 'https://app.test?x'],
    ['httpTokens', ','],
    ['httpTokens', 'has space'],
  ] as const)('refuses %s=%s', (key, value) => {
    expect(() => resolveConfig({ [key]: value })).toThrow(KotakError);
  });
});

describe('start-up warnings', () => {
  const settings = { httpAuth: null, httpTokens: [], httpTokenFile: null, httpAuthMailboxes: null, httpCors: [] };
  const open = { auth: null, users: 0, tokens: [], usersWithoutMailboxes: [] };
  const loopback = { http: { host: '127.0.0.1', port: 8025 }, smtp: { host: '127.0.0.1', port: 1025 } };

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.test', '128.0.0.1']) expect(isLoopback(host), host).toBe(false);
  });

  it('is quiet on loopback', () => {
    expect(exposureWarnings(loopback, settings, open)).toEqual([]);
  });

  it('warns about an open HTTP side and SMTP beyond this machine', () => {
    const everywhere = { http: { host: '0.0.0.0', port: 8025 }, smtp: { host: '::', port: 1025 } };
    const messages = exposureWarnings(everywhere, settings, open).map(([, message]) => message);
    expect(messages).toEqual([expect.stringMatching(/without authentication/), expect.stringMatching(/SMTP listens beyond this machine/)]);
    const guarded = { auth: createHttpAuth({ passwords: null, tokens: [allMailboxes(TOKEN)] }), users: 0, tokens: [allMailboxes(TOKEN)], usersWithoutMailboxes: [] };
    expect(exposureWarnings(everywhere, settings, guarded).map(([, m]) => m)).toEqual([expect.stringMatching(/SMTP/)]);
  });

  it('names the users --http-auth-mailboxes leaves out (they see no mailbox)', () => {
    const messages = exposureWarnings(loopback, settings, { ...open, usersWithoutMailboxes: ['erin'] });
    expect(messages).toEqual([[{ users: ['erin'] }, expect.stringMatching(/1 user\(s\) of --http-auth have no line in --http-auth-mailboxes: they can log in but see no mailbox/)]]);
  });

  it("warns about --http-cors '*' and short tokens", () => {
    const messages = exposureWarnings(loopback, { ...settings, httpCors: ['*'] }, { ...open, tokens: [allMailboxes('short')] }).map(([, m]) => m);
    expect(messages).toEqual([expect.stringMatching(/--http-cors \*/), expect.stringMatching(/shorter than 16/)]);
  });
});
