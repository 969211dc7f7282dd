import { describe, expect, it } from 'vitest';
import { decodeEntities, htmlToText, makeSnippet } from '../../src/mail/html-text.js';
import { isMessageId, newMessageId } from '../../src/mail/id.js';
import { parseMessage } from '../../src/mail/parse.js';
import { hiddenRecipients } from '../../src/mail/summary.js';
import { attachmentDisposition, safeContentType } from '../../src/api/download.js';

describe('html text', () => {
  it('drops markup, scripts and styles, keeps words apart, decodes entities', () => {
    const html = '<html><head><title>T</title><style>p{color:red}</style></head><body><p>Hello&nbsp;<b>Bob</b></p><script>alert(1)</script><div>Caf&eacute; &amp; bar&#33; &#x1F600;</div></body></html>';
    const text = htmlToText(html);
    expect(text).toContain('Hello Bob');
    expect(text).not.toContain('alert');
    expect(text).not.toContain('color');
    expect(text).toContain('& bar! 😀');
  });

  it('survives unterminated tags and comments', () => {
    expect(htmlToText('before <!-- never closed')).toBe('before');
    expect(htmlToText('a<script>b')).toBe('a');
  });

  it('decodes only valid code points', () => {
    expect(decodeEntities('&#0;&#xD800;&#x110000;&lt;')).toBe('<');
  });

  it('makes one-line snippets', () => {
    expect(makeSnippet('  a\n\n b  ')).toBe('a b');
    expect(makeSnippet('x'.repeat(300))).toHaveLength(200);
  });
});

describe('message ids', () => {
  it('are 22 Crockford base32 characters that sort by time', () => {
    const a = newMessageId(1_700_000_000_000);
    const b = newMessageId(1_700_000_000_001);
    expect(isMessageId(a)).toBe(true);
    expect(a < b).toBe(true);
    expect(new Set(Array.from({ length: 1000 }, () => newMessageId())).size).toBe(1000);
  });
});

describe('parseMessage', () => {
  it('extracts addresses, groups, headers in order, and attachments by part path', async () => {
    const raw = Buffer.from(
      [
        'From: "Ann" <ann@example.com>',
        'To: undisclosed-recipients:;, Team: a@x.test, b@x.test;',
        'Subject: =?UTF-8?B?SMOpbGxv?=',
        'X-Folded: one',
        '  two',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain',
        '',
        'body',
        '--b',
        'Content-Type: application/octet-stream',
        'Content-Disposition: attachment; filename="../../etc/passwd"',
        'Content-Transfer-Encoding: base64',
        '',
        'aGVsbG8=',
        '--b--',
        '',
      ].join('\r\n'),
    );
    const parsed = await parseMessage(raw);
    expect(parsed.from).toEqual({ name: 'Ann', address: 'ann@example.com' });
    expect(parsed.to.map((a) => a.address)).toEqual(['a@x.test', 'b@x.test']);
    expect(parsed.subject).toBe('Héllo');
    expect(parsed.headers.map((h) => h.name)).toEqual(['From', 'To', 'Subject', 'X-Folded', 'Content-Type']);
    expect(parsed.headers[3]!.value).toBe('one  two');
    expect(parsed.text).toBe('body');
    expect(parsed.attachments).toEqual([{ id: '2', filename: '../../etc/passwd', contentType: 'application/octet-stream', size: 5, contentId: null, inline: false }]);
  });

  it('shows raw UTF-8 header values (RFC 6532) in the header list as the subject reads them, and other 8-bit bytes as Latin-1', async () => {
    const raw = Buffer.concat([
      Buffer.from('From: Zoë <zoe@example.com>\r\nSubject: 東京 Grüße\r\nX-Latin: caf', 'utf8'),
      Buffer.from([0xe9]), // a lone Latin-1 byte: not UTF-8
      Buffer.from('\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n', 'utf8'),
    ]);
    const parsed = await parseMessage(raw);
    expect(parsed.subject).toBe('東京 Grüße');
    const value = (name: string) => parsed.headers.find((h) => h.name === name)?.value;
    expect(value('Subject')).toBe('東京 Grüße');
    expect(value('From')).toBe('Zoë <zoe@example.com>');
    expect(value('X-Latin')).toBe('café');
  });

  it('does not fail on a message with no headers or body', async () => {
    const parsed = await parseMessage(Buffer.from('\r\n'));
    expect(parsed.subject).toBe('');
    expect(parsed.from).toBeNull();
  });
});

describe('hidden recipients', () => {
  it('are the envelope recipients in neither To nor Cc, case-insensitively, plus a Bcc header', () => {
    const parsed = { to: [{ name: '', address: 'A@x.test' }], cc: [{ name: '', address: 'c@x.test' }], bcc: [{ name: 'Boss', address: 'boss@x.test' }] };
    const envelope = { mailFrom: '', rcptTo: ['a@x.test', 'c@x.test', 'hidden@x.test', 'boss@x.test'], clientAddress: '', heloName: '', user: null, tls: false };
    expect(hiddenRecipients(parsed as never, envelope)).toEqual([
      { name: 'Boss', address: 'boss@x.test' },
      { name: '', address: 'hidden@x.test' },
    ]);
  });
});

describe('downloads', () => {
  it('never serves active content types as themselves', () => {
    expect(safeContentType('application/pdf')).toBe('application/pdf');
    expect(safeContentType('image/png; name=x.png')).toBe('image/png');
    for (const t of ['text/html', 'image/svg+xml', 'application/xhtml+xml', 'text/javascript', 'garbage', 'text/plain\r\nX: y']) {
      expect(safeContentType(t), t).toBe('application/octet-stream');
    }
  });

  it('builds a Content-Disposition that keeps only the file name and cannot break the header', () => {
    expect(attachmentDisposition('../../etc/passwd', 'x')).toBe(`attachment; filename="passwd"; filename*=UTF-8''passwd`);
    expect(attachmentDisposition('résumé "final".pdf', 'x')).toBe(`attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`);
    expect(attachmentDisposition('a\r\nSet-Cookie: x', 'x')).not.toMatch(/[\r\n]/);
    expect(attachmentDisposition(null, 'part-2')).toBe(`attachment; filename="part-2"; filename*=UTF-8''part-2`);
  });
});
