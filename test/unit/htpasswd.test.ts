import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KotakError } from '../../src/errors.js';
import { loadHtpasswd, parseHtpasswd } from '../../src/auth/htpasswd.js';
import { testVerifier } from '../helpers/verifier.js';

const verifier = testVerifier();

// Vectors made with Apache's htpasswd 2.4.68 (Debian apache2-utils), e.g. `htpasswd -nbm alice 'correct horse'`,
// except where noted.
const BCRYPT_2Y = '$2y$04$T5rjTSeULm5xRRYv69qZYuSV.vTAnSGyDKItuu4D.Inop.N1vzrhC'; // -nbB -C 4 carol s3cret
const FILE = [
  'alice:$apr1$rWn6/exG$rkfoSReL2ihqNGbTKzq5J.', // -nbm, password "correct horse"
  'bob:$apr1$h6tqosJ5$0yrWqVIhdyQHbNJo.QUoF1', // -nbm, password "pa:ss wörd" (UTF-8)
  'frank:$apr1$abcdefgh$sIQmFnT1CuEXAsyjuXjUX/', // `openssl passwd -apr1 -salt abcdefgh 'correct horse'`
  'empty:$apr1$RzweN930$IGParmmxOmMA5tzQnN6t70', // -nbm, empty password
  `carol:${BCRYPT_2Y}`,
  // $2a$/$2b$ differ from $2y$ only in the prefix for passwords like this one, so these are prefix-rewrites.
  `carol2a:${BCRYPT_2Y.replace('$2y$', '$2a$')}`,
  `carol2b:${BCRYPT_2Y.replace('$2y$', '$2b$')}`,
  'utf:$2y$04$vxJ4puW/kcHqKBlqs5ej1esSpbx5OWr/.IbLg94jtsIe.Fzcs.XyC', // -nbB -C 4, password "pässwörd"
  'dave:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=', // -nbs, password "hunter2"
  'erin:plain:text', // -nbp, password "plain:text"
].join('\n');

describe('parseHtpasswd', () => {
  const store = parseHtpasswd(FILE, verifier);

  it('counts users', () => {
    expect(store.size).toBe(10);
  });

  it.each([
    ['alice', 'correct horse'],
    ['bob', 'pa:ss wörd'],
    ['frank', 'correct horse'],
    ['empty', ''],
    ['carol', 's3cret'],
    ['carol2a', 's3cret'],
    ['carol2b', 's3cret'],
    ['utf', 'pässwörd'],
    ['dave', 'hunter2'],
    ['erin', 'plain:text'],
  ])('accepts %s with the right password and rejects a wrong one', async (user, password) => {
    expect(await store.verify(user, password)).toBe(true);
    expect(await store.verify(user, `${password}x`)).toBe(false);
    expect(await store.verify(user, password.slice(0, -1) || 'x')).toBe(false);
  });

  it('rejects hashes given as passwords and passwords given to the wrong user', async () => {
    expect(await store.verify('dave', '{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=')).toBe(false);
    expect(await store.verify('alice', 'hunter2')).toBe(false);
    expect(await store.verify('erin', 'plain')).toBe(false);
  });

  it('rejects unknown users, even with another user’s password', async () => {
    expect(await store.verify('mallory', 'correct horse')).toBe(false);
    expect(await store.verify('', '')).toBe(false);
    expect(await store.verify('ALICE', 'correct horse')).toBe(false);
  });

  it('refuses unknown users of a bcrypt file (after a decoy check; timing is not asserted in tests)', async () => {
    // htpasswd -nbB -C 10 slow hunter2
    const slow = parseHtpasswd('slow:$2y$10$9ejqRE3kFUSnPVh0969aAekpyjYOI244z3gsFooZ40dzmuTht9MKS', verifier);
    expect(await slow.verify('slow', 'hunter2')).toBe(true);
    expect(await slow.verify('nobody', 'hunter2')).toBe(false);
  });

  it('ignores comments and blank lines, tolerates CRLF and a BOM', async () => {
    const text = '\uFEFF# users\r\n\r\n   \r\n  # indented comment\r\nerin:secret\r\n#dave:x\r\n';
    const crlf = parseHtpasswd(text, verifier);
    expect(crlf.size).toBe(1);
    expect(await crlf.verify('erin', 'secret')).toBe(true);
    expect(await crlf.verify('erin', 'secret\r')).toBe(false);
    expect(await crlf.verify('#dave', 'x')).toBe(false);
  });

  it('accepts an empty file', async () => {
    const none = parseHtpasswd('', verifier);
    expect(none.size).toBe(0);
    expect(await none.verify('a', 'b')).toBe(false);
  });

  it.each([
    ['no colon', 'alice:x\nbob\n', 2, 'expected "user:hash"'],
    ['empty user', '# c\n:secret\n', 2, 'empty user name'],
    ['empty hash', 'alice:\n', 1, 'empty password hash'],
    ['duplicate user', 'alice:x\r\n\r\nalice:y\r\n', 3, 'duplicate user "alice"'],
    ['truncated bcrypt', 'alice:$2y$05$tooShort\n', 1, 'malformed or unsupported hash'],
    ['bad apr1', 'alice:$apr1$salt$short\n', 1, 'malformed or unsupported hash'],
    ['bad {SHA}', 'alice:{SHA}notbase64\n', 1, 'malformed or unsupported hash'],
    ['unsupported crypt', 'alice:$6$salt$abcdef\n', 1, 'malformed or unsupported hash'],
  ])('reports %s with file and line number', (_name, text, line, reason) => {
    let error: unknown;
    try {
      parseHtpasswd(text, verifier, 'users.htpasswd');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(KotakError);
    expect((error as KotakError).code).toBe('invalid_config');
    expect((error as KotakError).message.startsWith(`users.htpasswd:${line}: ${reason}`)).toBe(true);
  });

  it('never puts the hash or password in an error message', () => {
    expect(() => parseHtpasswd('alice:$2y$05$SECRETSECRET', verifier)).toThrow(/^htpasswd:1: /);
    expect(() => parseHtpasswd('alice:$2y$05$SECRETSECRET', verifier)).not.toThrow(/SECRET/);
    expect(() => parseHtpasswd('no-colon-SECRET', verifier)).not.toThrow(/SECRET/);
  });
});

describe('loadHtpasswd', () => {
  it('loads a file and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kotak-htpasswd-'));
    try {
      const good = join(dir, 'good');
      await writeFile(good, FILE);
      expect((await loadHtpasswd(good, verifier)).size).toBe(10);

      const bad = join(dir, 'bad');
      await writeFile(bad, 'alice:x\nbob\n');
      await expect(loadHtpasswd(bad, verifier)).rejects.toThrow(`${bad}:2: expected "user:hash"`);

      const missing = join(dir, 'missing');
      await expect(loadHtpasswd(missing, verifier)).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringContaining(missing) });
      await expect(loadHtpasswd(dir, verifier)).rejects.toBeInstanceOf(KotakError); // a directory is unreadable as a file
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
