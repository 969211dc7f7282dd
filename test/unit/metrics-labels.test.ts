/** The pure parts of the metrics: bounded label values, and SMTP replies named as refusal reasons. */
import { describe, expect, it } from 'vitest';
import { BoundedLabel, OTHER_LABEL } from '../../src/metrics/bounded-label.js';
import { smtpRefusalReason } from '../../src/smtp/refusal-reason.js';

describe('BoundedLabel', () => {
  it('gives the first N values their own child, made once, and every later one the shared _other', () => {
    const made: string[] = [];
    const label = new BoundedLabel(2, (value) => {
      made.push(value);
      return { value };
    });
    const a = label.get('a');
    expect(label.get('a')).toBe(a);
    expect(label.get('b').value).toBe('b');
    expect(label.get('c').value).toBe(OTHER_LABEL);
    expect(label.get('d')).toBe(label.get('c'));
    expect(made).toEqual(['a', 'b', OTHER_LABEL]);
  });

  it('never gives a value named _other a child of its own', () => {
    const label = new BoundedLabel(5, (value) => ({ value }));
    expect(label.get(OTHER_LABEL)).toBe(label.get(OTHER_LABEL));
    expect(label.get('x').value).toBe('x');
  });
});

describe('smtpRefusalReason', () => {
  it.each([
    [552, '5.3.4 Message exceeds the limit of 100 bytes', 'message_too_big'],
    [552, 'Error: message exceeds fixed maximum message size 100', 'message_too_big'],
    [452, '4.5.3 Too many recipients (at most 2 per message)', 'too_many_recipients'],
    [452, 'Error: too many recipients', 'too_many_recipients'],
    [452, '4.3.1 Insufficient system storage', 'insufficient_storage'],
    [451, '4.3.0 Message not stored, try again later', 'storage_failed'],
    [535, '5.7.8 Authentication credentials invalid', 'auth_failed'],
    [530, 'Error: authentication Required', 'auth_required'],
    [530, '5.7.0 Must issue a STARTTLS command first', 'tls_required'],
    [454, '4.7.0 Temporary authentication failure, try again later', 'auth_unavailable'],
    [501, '5.1.3 Address contains control characters', 'bad_address'],
    [501, 'Error: Bad sender address syntax', 'protocol'],
    [500, '5.5.2 Line too long', 'line_too_long'],
    [500, 'Error: command not recognized', 'protocol'],
    [421, 'Server shutting down', 'shutting_down'],
    [421, '4.4.2 Session time limit reached, closing connection', 'session_timeout'],
    [421, 'Timeout - closing connection', 'idle_timeout'],
    [421, '4.7.0 Too many messages from your address, try again later', 'client_limit'],
    [503, 'Error: need MAIL command', 'protocol'],
  ] as const)('%i %s → %s', (code, text, reason) => {
    expect(smtpRefusalReason(code, text)).toBe(reason);
  });
});
