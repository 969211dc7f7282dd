/** The spam check's pure parts: spamd's reply, the report's rules table, the size cap, the flags. */
import { describe, expect, it } from 'vitest';
import { capMessage, createSpamCheck, type SpamdClient } from '../../src/checks/spam/index.js';
import { parseReportRules } from '../../src/checks/spam/report.js';
import { parseSpamdReply } from '../../src/checks/spam/spamc.js';
import { resolveConfig } from '../../src/config.js';
import { KotakError } from '../../src/errors.js';

/** As spamd 4.0.1 answers REPORT for a GTUBE message (Debian bookworm). */
const GTUBE_REPORT = [
  'Spam detection software, running on the system "vm",',
  'has identified this incoming email as possible spam.  The original',
  'message has been attached to this so you can view it or label',
  'similar future email.  If you have any questions, see',
  '@@CONTACT_ADDRESS@@ for details.',
  '',
  'Content preview:  XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X',
  '   ',
  '',
  'Content analysis details:   (1000.0 points, 5.0 required)',
  '',
  ' pts rule name              description',
  '---- ---------------------- --------------------------------------------------',
  '-0.0 NO_RECEIVED            Informational: message has no Received headers',
  ' 0.0 MSGID_SHORT            Message-ID is unusually short',
  '1000 GTUBE                  BODY: Generic Test for Unsolicited Bulk Email',
  ' 0.0 TVD_SPACE_RATIO        No description available.',
  '',
  '',
].join('\n');

function reply(head: string, body: string): Buffer {
  return Buffer.from(`${head}\r\nContent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

describe('spamd reply', () => {
  it('reads the verdict, score, threshold and report', () => {
    const parsed = parseSpamdReply(reply('SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1000.0 / 5.0', GTUBE_REPORT), 'here');
    expect(parsed).toEqual({ isSpam: true, score: 1000, threshold: 5, report: GTUBE_REPORT });
    expect(parseSpamdReply(reply('SPAMD/1.5 0 EX_OK\r\nSpam: no ; -1.9 / 6.5', ''), 'here')).toMatchObject({ isSpam: false, score: -1.9, threshold: 6.5 });
  });

  it('counts Content-length in bytes, so a report in UTF-8 is read whole', () => {
    const body = ' 1.0 RULE_X                 Größe: ünïcödé\n';
    expect(parseSpamdReply(reply('SPAMD/1.1 0 EX_OK\r\nSpam: False ; 1.0 / 5.0', body), 'here').report).toBe(body);
  });

  it.each([
    ['an error status', Buffer.from('SPAMD/1.0 76 Bad header line: x\r\n'), /refused the request: 76 Bad header line: x/],
    ['no SPAMD status line', Buffer.from('220 smtp.example ESMTP\r\n'), /something other than SPAMD/],
    ['nothing', Buffer.alloc(0), /without an answer/],
    ['headers cut short', Buffer.from('SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1.0 / 5.0\r\n'), /without the end of its headers/],
    ['a report shorter than declared', Buffer.from('SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1.0 / 5.0\r\nContent-length: 99\r\n\r\nshort'), /sent 5 bytes of a report of 99/],
    ['no Spam header', reply('SPAMD/1.1 0 EX_OK', 'x'), /without a readable Spam header/],
  ])('refuses %s as spamd_failed', (_, bytes, reason) => {
    let caught: unknown;
    try {
      parseSpamdReply(bytes, 'spamd.test:783');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(KotakError);
    expect((caught as KotakError).code).toBe('spamd_failed');
    expect((caught as KotakError).message).toMatch(/^spamd at spamd\.test:783 /);
    expect((caught as KotakError).message).toMatch(reason);
  });
});

describe('report rules', () => {
  it('reads every row of the table with its points, name and description', () => {
    expect(parseReportRules(GTUBE_REPORT)).toEqual([
      { name: 'NO_RECEIVED', score: -0, description: 'Informational: message has no Received headers' },
      { name: 'MSGID_SHORT', score: 0, description: 'Message-ID is unusually short' },
      { name: 'GTUBE', score: 1000, description: 'BODY: Generic Test for Unsolicited Bulk Email' },
      { name: 'TVD_SPACE_RATIO', score: 0, description: 'No description available.' },
    ]);
  });

  it('joins a description wrapped onto indented lines, even one that starts with a number', () => {
    const report = [
      ' pts rule name              description',
      '---- ---------------------- --------------------------------------------------',
      ' 0.0 URIBL_BLOCKED          ADMINISTRATOR NOTICE: The query to URIBL was blocked.',
      '                            See',
      '                            http://wiki.apache.org/spamassassin/DnsBlocklists#dnsbl-block',
      '                             for more information.',
      '                            [URIs: example.test]',
      ' 2.5 FAKE_RULE              a rule whose description goes on',
      '                            2.5 times longer than a line',
      '-1.9 BAYES_00               BODY: Bayes spam probability is 0 to 1%',
      '',
      'This line is after the table.',
    ].join('\r\n');
    expect(parseReportRules(report)).toEqual([
      {
        name: 'URIBL_BLOCKED',
        score: 0,
        description: 'ADMINISTRATOR NOTICE: The query to URIBL was blocked. See http://wiki.apache.org/spamassassin/DnsBlocklists#dnsbl-block for more information. [URIs: example.test]',
      },
      { name: 'FAKE_RULE', score: 2.5, description: 'a rule whose description goes on 2.5 times longer than a line' },
      { name: 'BAYES_00', score: -1.9, description: 'BODY: Bayes spam probability is 0 to 1%' },
    ]);
  });

  it('finds no rules in a report without the table (a custom report template)', () => {
    expect(parseReportRules('Spam detection software says: spam.\n')).toEqual([]);
    expect(parseReportRules('')).toEqual([]);
  });
});

describe('size cap', () => {
  it('sends a message within the cap unchanged, and cuts a larger one after its last line end', () => {
    const message = Buffer.from('Subject: x\r\n\r\nline one\r\nline two\r\n');
    expect(capMessage(message, message.length)).toBe(message);
    expect(capMessage(message, 33).toString()).toBe('Subject: x\r\n\r\nline one\r\n');
    expect(capMessage(message, 24).toString()).toBe('Subject: x\r\n\r\nline one\r\n');
    expect(capMessage(message, 23).toString()).toBe('Subject: x\r\n\r\n');
    expect(capMessage(Buffer.from('x'.repeat(100)), 10).length).toBe(10);
  });

  it('says in the result what was cut', async () => {
    const sent: Buffer[] = [];
    const client: SpamdClient = async (_address, message) => {
      sent.push(message);
      return { isSpam: false, score: 0.5, threshold: 5, report: GTUBE_REPORT };
    };
    const check = createSpamCheck({ spamd: { kind: 'tcp', host: '127.0.0.1', port: 783 }, timeoutMs: 8000, maxBytes: 16 }, { client });
    const result = await check.check(Buffer.from('Subject: x\r\n\r\nbody line\r\n'));
    expect(sent[0]!.toString()).toBe('Subject: x\r\n\r\n');
    expect(result).toMatchObject({ truncated: true, checkedBytes: 14, messageBytes: 25, score: 0.5, isSpam: false });
    expect(result.rules.map((r) => r.name)).toContain('GTUBE');
  });
});

describe('flags', () => {
  it('are off by default, with spamc\'s 500 KB and Mailpit\'s 8 s', () => {
    const config = resolveConfig({});
    expect(config.spamassassin).toBeNull();
    expect(config.spamassassinTimeout).toBe(8000);
    expect(config.spamassassinMaxSize).toBe(500 * 1024);
  });

  it('read HOST:PORT and unix:/path', () => {
    expect(resolveConfig({ spamassassin: '127.0.0.1:783' }).spamassassin).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 783 });
    expect(resolveConfig({ spamassassin: '[::1]:783' }).spamassassin).toEqual({ kind: 'tcp', host: '::1', port: 783 });
    expect(resolveConfig({}, { KOTAK_SPAMASSASSIN: 'unix:/run/spamd.sock' }).spamassassin).toEqual({ kind: 'unix', path: '/run/spamd.sock' });
  });

  it.each(['spamd', 'unix:spamd.sock', '127.0.0.1:0', 'unix:'])('refuse --spamassassin %s with the reason', (value) => {
    expect(() => resolveConfig({ spamassassin: value })).toThrow(/--spamassassin/);
  });

  it('refuse a zero timeout or size', () => {
    expect(() => resolveConfig({ spamassassinTimeout: '0s' })).toThrow(/--spamassassin-timeout/);
    expect(() => resolveConfig({ spamassassinMaxSize: '0' })).toThrow(/--spamassassin-max-size/);
  });
});
