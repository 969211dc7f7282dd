/** `kotak migrate-db` on the command line: its own arguments are handed on whole, and `kotak --help` names it. */
import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../src/cli.js';
import { helpText } from '../../src/help.js';

describe('kotak migrate-db on the command line', () => {
  it('hands its arguments on unparsed (they are not server options)', () => {
    expect(parseCommandLine(['migrate-db', '--from', 'kotak.db', '--to', 'postgres://u:p@h/db', '--append'])).toEqual({
      kind: 'migrate-db',
      args: ['--from', 'kotak.db', '--to', 'postgres://u:p@h/db', '--append'],
    });
  });

  it('is named in kotak --help and among the known commands', () => {
    expect(helpText('1.0.0', 200)).toContain('kotak migrate-db --from PATH --to postgres://');
    expect(() => parseCommandLine(['migrat'])).toThrow(/known: serve, sendmail, migrate-db, help/);
  });
});
