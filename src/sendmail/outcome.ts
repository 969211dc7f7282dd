/**
 * What happened → the exit status (sysexits.h) and the one line that explains it. Pure.
 *
 * 4xx anywhere is temporary (75): the caller may try again. 5xx is permanent and says whose
 * fault: the session (69, as if Kotak were not there), the sender or the message (65), a
 * recipient (67, EX_NOUSER, what sendmail exits with for an unknown user). A recipient refused
 * while others accepted the message still fails the command, and the line says who got it.
 */
import { EXIT, type ExitStatus } from './exit-status.js';
import type { RecipientRefusal, SubmitOutcome } from './submit.js';

export interface Verdict {
  readonly status: ExitStatus;
  /** Without the "sendmail: " prefix; on success, shown only with -v. */
  readonly message: string;
}

export function verdictFor(outcome: SubmitOutcome, context: { server: string; sender: string }): Verdict {
  const at = `Kotak's SMTP server at ${context.server}`;
  switch (outcome.kind) {
    case 'unreachable':
      return { status: EXIT.unavailable, message: `cannot reach ${at} (${outcome.reason}); set -S or KOTAK_SENDMAIL_SMTP` };
    case 'lost':
      return { status: EXIT.tempFail, message: `lost the connection to ${at} before the message was accepted (${outcome.reason}); try again` };
    case 'too-big':
      return { status: EXIT.dataError, message: `the message is ${outcome.size} bytes and ${at} accepts at most ${outcome.limit} (its --max-message-size); nothing was sent` };
    case 'sent': {
      if (outcome.refused.length === 0) return { status: EXIT.ok, message: `sent to ${outcome.accepted.join(', ')}: ${outcome.reply}` };
      return {
        status: recipientStatus(outcome.refused),
        message: `${at} ${describeRefusals(outcome.refused)}; the message was delivered to ${outcome.accepted.join(', ')}`,
      };
    }
    case 'refused': {
      const temporary = outcome.code < 500;
      const reply = outcome.reply;
      switch (outcome.step) {
        case 'greeting':
        case 'EHLO':
        case 'STARTTLS':
          return temporary
            ? { status: EXIT.tempFail, message: `${at} is not taking mail now: ${reply}` }
            : { status: EXIT.unavailable, message: `${at} refused the session: ${reply}` };
        case 'MAIL FROM': {
          if (temporary) return { status: EXIT.tempFail, message: `${at} deferred the sender <${context.sender}>: ${reply}` };
          // A SIZE= the server will not take is refused at MAIL FROM (RFC 1870), but it is about the message.
          if (outcome.code === 552 || /^\d{3}[ -]5\.3\.4/.test(reply)) return { status: EXIT.dataError, message: `${at} refused the message: ${reply}` };
          if (outcome.code === 530 || /^\d{3}[ -]5\.7\.\d/.test(reply)) {
            return { status: EXIT.noPermission, message: `${at} requires authentication, which kotak sendmail does not do: ${reply}` };
          }
          return { status: EXIT.dataError, message: `${at} refused the sender <${context.sender}>: ${reply}` };
        }
        case 'RCPT TO': {
          const refused: readonly RecipientRefusal[] = outcome.refusedRecipients.length ? outcome.refusedRecipients : [{ recipient: '?', code: outcome.code, reply }];
          return { status: recipientStatus(refused), message: `${at} ${describeRefusals(refused)}; nothing was sent` };
        }
        case 'DATA':
          return temporary
            ? { status: EXIT.tempFail, message: `${at} deferred the message: ${reply}` }
            : { status: EXIT.dataError, message: `${at} refused the message: ${reply}` };
      }
    }
  }
}

function recipientStatus(refused: readonly RecipientRefusal[]): ExitStatus {
  return refused.some((r) => r.code >= 500) ? EXIT.noUser : EXIT.tempFail;
}

/** "refused a@x (550 …) and deferred b@y, c@z (452 …)": recipients with the same reply share it. */
function describeRefusals(refused: readonly RecipientRefusal[]): string {
  const list = (rs: readonly RecipientRefusal[]): string => {
    const byReply = new Map<string, string[]>();
    for (const r of rs) byReply.set(r.reply, [...(byReply.get(r.reply) ?? []), r.recipient]);
    return [...byReply].map(([reply, recipients]) => `${recipients.join(', ')} (${reply})`).join(', ');
  };
  const permanent = refused.filter((r) => r.code >= 500);
  const temporary = refused.filter((r) => r.code < 500);
  return [permanent.length ? `refused ${list(permanent)}` : '', temporary.length ? `deferred ${list(temporary)}` : ''].filter(Boolean).join(' and ');
}
