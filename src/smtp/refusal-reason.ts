/**
 * Why an SMTP reply refused something, named for metrics (src/metrics/): a small fixed set, read
 * from the reply code and its text. Every refusal leaves through KotakConnection.send, ours (from
 * the one error registry, src/errors.ts) and smtp-server's own (the SIZE check at MAIL, "auth
 * required", the shutdown 421, syntax and sequence errors), so the reply is the one place that
 * sees them all. Pure; called only for replies of 400 and up.
 */
export const SMTP_REFUSAL_REASONS = [
  'message_too_big',
  'too_many_recipients',
  'insufficient_storage',
  'storage_failed',
  'auth_failed',
  'auth_required',
  'auth_unavailable',
  'tls_required',
  'bad_address',
  'line_too_long',
  'client_limit',
  'session_timeout',
  'idle_timeout',
  'shutting_down',
  'protocol',
] as const;

export type SmtpRefusalReason = (typeof SMTP_REFUSAL_REASONS)[number];

export function smtpRefusalReason(code: number, text: string): SmtpRefusalReason {
  switch (code) {
    case 552:
      return 'message_too_big';
    case 452:
      return text.startsWith('4.3.1') ? 'insufficient_storage' : 'too_many_recipients';
    case 451:
      return 'storage_failed';
    case 535:
      return 'auth_failed';
    case 454:
      return 'auth_unavailable';
    case 530:
    case 538:
      return /STARTTLS/i.test(text) ? 'tls_required' : 'auth_required';
    case 501:
      return text.startsWith('5.1.3') ? 'bad_address' : 'protocol';
    case 500:
      return text.startsWith('5.5.2') ? 'line_too_long' : 'protocol';
    case 421:
      if (/shutting down/i.test(text)) return 'shutting_down';
      if (text.startsWith('4.4.2')) return 'session_timeout';
      if (/^Timeout/i.test(text)) return 'idle_timeout';
      // 4.7.0: connection, message and AUTH rates, connections at once, too many errors.
      return 'client_limit';
    default:
      return 'protocol';
  }
}
