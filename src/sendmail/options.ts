/**
 * sendmail(8) command-line syntax → what to do. Pure.
 *
 * The syntax is getopt's, as sendmail and Postfix parse it: single-letter flags that can be
 * grouped (`-ti`), options whose value is attached or the next argument (`-fuser@x`, `-f user@x`,
 * `-oi`, `-o i`), `--` ends the options. Like GNU getopt, options may follow recipients.
 * Applications pass many flags that mean nothing to a sandbox (queueing, delivery and error modes,
 * DSN, logging); those are accepted and ignored, but each still takes its value so that the value
 * is never mistaken for a recipient.
 */
import { usageError } from './exit-status.js';

export type SendmailMode =
  /** -bm (the default): read one message from stdin and submit it. */
  | 'deliver'
  /** -bs: SMTP on stdin/stdout, proxied to Kotak. */
  | 'smtp-session'
  /** -bi / -I (rebuild aliases) and -q (run the queue): Kotak has neither, so there is nothing to do. */
  | 'nothing-to-do'
  | 'help';

export interface SendmailOptions {
  readonly mode: SendmailMode;
  /** -t: recipients from the To, Cc and Bcc headers, added to those on the command line. */
  readonly recipientsFromHeaders: boolean;
  /** Without -i / -oi, a line holding only "." ends the message, as in traditional sendmail. */
  readonly dotEndsInput: boolean;
  /** -f / -r as given ('' or '<>' is the null sender); null: the default sender. */
  readonly sender: string | null;
  /** -F: the full name for a From header added to a message that has none. */
  readonly fullName: string | null;
  /** -S / --smtp-addr: Kotak's SMTP server as HOST:PORT; null: environment or default. */
  readonly server: string | null;
  /** -v: report the server's reply on stderr. */
  readonly verbose: boolean;
  /** Recipient arguments, each possibly an address list ("a@x, B <b@y>"). */
  readonly recipients: readonly string[];
}

/** Flags that take a value (attached or next argument), with what they mean to us. */
const VALUE_FLAGS: Record<string, string> = {
  A: 'submission file (-Ac, -Am): ignored',
  B: 'body type (-B 8BITMIME): ignored, 8-bit content is detected',
  C: 'configuration file: ignored',
  D: 'debug log file: ignored',
  F: 'full name',
  L: 'syslog tag: ignored',
  M: 'macro definition: ignored',
  N: 'DSN notify (-N never): ignored',
  O: 'long option (-O opt=val): IgnoreDots is honoured, the rest ignored',
  Q: 'quarantine reason: ignored',
  R: 'DSN return (-R hdrs): ignored',
  S: 'Kotak SMTP server HOST:PORT',
  V: 'DSN envelope id: ignored',
  X: 'traffic log file: ignored',
  b: 'mode',
  d: 'debug flags: ignored',
  e: 'error mode (-em, -ep, -eq): ignored',
  f: 'envelope sender',
  h: 'hop count: ignored',
  o: 'option (-oi honoured; -oem, -odb, -oQdir … ignored)',
  p: 'protocol: ignored',
  r: 'envelope sender (obsolete form of -f)',
};

/** Flags without a value. */
const PLAIN_FLAGS: Record<string, string> = {
  G: 'gateway submission: ignored',
  I: 'initialize the alias database (as -bi)',
  U: 'initial user submission: ignored',
  c: 'connection caching: ignored',
  i: 'a lone "." line does not end the message',
  m: 'send to me too: ignored',
  n: 'no aliasing: ignored',
  s: 'obsolete: ignored',
  t: 'recipients from the headers',
  v: 'verbose',
};

const MODES: Record<string, string> = {
  a: 'ARPANET mode',
  C: 'configuration check',
  d: 'run as a daemon',
  D: 'run as a daemon in the foreground',
  h: 'host status',
  H: 'purge host status',
  l: 'run as a daemon',
  p: 'print the queue',
  P: 'print queue statistics',
  t: 'address test mode',
  v: 'verify addresses',
  V: 'print the version',
};

export function parseSendmailArgs(args: readonly string[]): SendmailOptions {
  let mode: SendmailMode = 'deliver';
  let recipientsFromHeaders = false;
  let dotEndsInput = true;
  let sender: string | null = null;
  let fullName: string | null = null;
  let server: string | null = null;
  let verbose = false;
  let queueRun = false;
  const recipients: string[] = [];

  const setMode = (letter: string): void => {
    if (letter === 'm') mode = 'deliver';
    else if (letter === 's') mode = 'smtp-session';
    else if (letter === 'i') mode = 'nothing-to-do';
    else {
      const what = MODES[letter];
      throw usageError(`-b${letter}${what ? ` (${what})` : ''} is not supported; kotak sendmail does -bm (deliver a message, the default) and -bs (SMTP on standard input and output)`);
    }
  };

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      recipients.push(...args.slice(i + 1));
      break;
    }
    if (arg === '--help') {
      mode = 'help';
      continue;
    }
    if (arg.startsWith('--smtp-addr')) {
      const attached = arg.slice('--smtp-addr'.length);
      if (attached.startsWith('=')) server = attached.slice(1);
      else if (attached === '' && i + 1 < args.length) server = args[++i]!;
      else throw usageError(attached === '' ? '--smtp-addr needs HOST:PORT' : `unknown option ${arg}`);
      continue;
    }
    if (arg.startsWith('--')) throw usageError(`unknown option ${arg}`);
    if (!arg.startsWith('-') || arg === '-') {
      recipients.push(arg);
      continue;
    }

    // A group of flags, as getopt reads it: each letter until one that takes a value.
    for (let at = 1; at < arg.length; at++) {
      const letter = arg[at]!;
      if (letter === 'q') {
        // -q, -q30m, -qR…, -qI…: run the queue (the value is only ever attached).
        queueRun = true;
        break;
      }
      if (letter in PLAIN_FLAGS) {
        if (letter === 't') recipientsFromHeaders = true;
        else if (letter === 'i') dotEndsInput = false;
        else if (letter === 'v') verbose = true;
        else if (letter === 'I') mode = 'nothing-to-do';
        continue;
      }
      if (!(letter in VALUE_FLAGS)) throw usageError(`unknown option -${letter}`);
      let value = arg.slice(at + 1);
      if (value === '') {
        if (i + 1 >= args.length) throw usageError(`-${letter} needs a value (${VALUE_FLAGS[letter]})`);
        value = args[++i]!;
      }
      switch (letter) {
        case 'b':
          setMode(value);
          break;
        case 'f':
        case 'r':
          sender = value;
          break;
        case 'F':
          fullName = value;
          break;
        case 'S':
          server = value;
          break;
        case 'o':
          // -oi (and sendmail's -oIgnoreDots) is the one option here that changes the message.
          if (value === 'i' || /^IgnoreDots(=(true|t|yes|y|1))?$/i.test(value)) dotEndsInput = false;
          break;
        case 'O':
          if (/^IgnoreDots(=(true|t|yes|y|1))?$/i.test(value)) dotEndsInput = false;
          break;
      }
      break; // the value took the rest of this argument
    }
  }

  if (queueRun && mode === 'deliver') mode = 'nothing-to-do';
  return { mode, recipientsFromHeaders, dotEndsInput, sender, fullName, server, verbose, recipients };
}

export const SENDMAIL_HELP = `Usage: kotak sendmail [options] [recipient ...]
       (or through a link named "sendmail", e.g. sendmail_path = "/usr/local/bin/sendmail -t -i")

Reads a message from standard input and hands it to Kotak's SMTP server.

  -t               recipients from the To, Cc and Bcc headers (plus any given as arguments);
                   Bcc headers are removed from the message
  -i, -oi          a line with a single "." does not end the message (without it, it does)
  -f ADDR, -r ADDR envelope sender (default: KOTAK_SENDMAIL_FROM, else user@hostname); -f '<>' for none
  -F NAME          full name for the From header added when the message has none
  -S HOST:PORT, --smtp-addr HOST:PORT
                   Kotak's SMTP server (default: KOTAK_SENDMAIL_SMTP, else 127.0.0.1:1025)
  -bm              deliver a message (the default)
  -bs              speak SMTP on standard input and output, proxied to Kotak
  -v               print the server's reply on standard error
  --               end of options

Missing From, Date and Message-ID headers are added. Other sendmail options (-oem, -odi, -B 8BITMIME,
-N never, -R hdrs, -V id, -X file, -C file, -L tag, -O opt=val, -h N, -U, -G, …) are accepted and
ignored; -bi and -q do nothing (Kotak has no aliases and no queue).
Exit status (sysexits.h): 0 sent, 64 usage, 65 message or sender refused, 67 recipient refused,
69 Kotak unreachable, 74 input error, 75 temporary failure (try again), 77 authentication required.`;
