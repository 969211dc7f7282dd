/**
 * `kotak sendmail` (or Kotak run through a link named `sendmail`): a sendmail(8)-compatible
 * command that hands the message on standard input to Kotak's SMTP server. Returns the exit
 * status; main.ts exits with it.
 *
 * Deliver mode, in order: flags → sender and command-line recipients → read stdin (to EOF, or to
 * a lone "." without -i) → with -t, recipients from the headers and Bcc removed → missing From,
 * Date, Message-ID added → one SMTP transaction → exit status from the replies.
 */
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { parseAddressList, parseSenderArgument, uniqueAddresses } from './addresses.js';
import { EXIT, SendmailFailure, usageError, type ExitStatus } from './exit-status.js';
import { recipientsFromHeaders } from './header-recipients.js';
import { readHeaderSection, removeFields } from './header-section.js';
import { localIdentity, type LocalIdentity } from './local-identity.js';
import { readMessage } from './message-input.js';
import { missingHeaders } from './missing-headers.js';
import { parseSendmailArgs, SENDMAIL_HELP, type SendmailOptions } from './options.js';
import { verdictFor } from './outcome.js';
import { candidateAddresses, chooseServerAddress, type ServerAddress } from './server-address.js';
import { proxySmtpSession } from './smtp-proxy.js';
import { DEFAULT_TIMEOUTS, submit } from './submit.js';

export interface SendmailIo {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly env: NodeJS.ProcessEnv;
}

export async function runSendmail(args: readonly string[], io: SendmailIo): Promise<ExitStatus> {
  try {
    const options = parseSendmailArgs(args);
    switch (options.mode) {
      case 'help':
        io.stdout.write(`${SENDMAIL_HELP}\n`);
        return EXIT.ok;
      case 'nothing-to-do':
        return EXIT.ok;
      case 'smtp-session':
        return await smtpSession(options, io);
      case 'deliver':
        return await deliver(options, io);
    }
  } catch (err) {
    if (err instanceof SendmailFailure) {
      io.stderr.write(`sendmail: ${err.message}\n`);
      return err.status;
    }
    io.stderr.write(`sendmail: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.software;
  }
}

async function smtpSession(options: SendmailOptions, io: SendmailIo): Promise<ExitStatus> {
  const server = chooseServerAddress(options.server, io.env);
  let ips: string[];
  try {
    ips = await candidateAddresses(server);
  } catch (err) {
    io.stdout.write(`421 4.3.2 Kotak's SMTP server name ${server.host} does not resolve\r\n`);
    throw unresolvable(server, err);
  }
  const verdict = await proxySmtpSession(server, ips, io, DEFAULT_TIMEOUTS.connectMs);
  if (verdict.status !== EXIT.ok) io.stderr.write(`sendmail: ${verdict.message}\n`);
  return verdict.status;
}

async function deliver(options: SendmailOptions, io: SendmailIo): Promise<ExitStatus> {
  const identity = localIdentity(io.env);
  const server = chooseServerAddress(options.server, io.env);
  const sender = envelopeSender(options, io.env, identity);

  const argumentRecipients: string[] = [];
  for (const arg of options.recipients) {
    const list = parseAddressList(arg, identity.hostname);
    if (list.malformed.length) throw usageError(`"${list.malformed[0]}" is not an email address`);
    argumentRecipients.push(...list.addresses);
  }
  // Checked before reading: without -t nothing on stdin can name a recipient (Postfix does the same).
  if (!options.recipientsFromHeaders && argumentRecipients.length === 0) {
    throw usageError('no recipients: give them as arguments, or use -t to take them from the To, Cc and Bcc headers');
  }

  let raw: Buffer;
  try {
    raw = await readMessage(io.stdin, { dotEndsInput: options.dotEndsInput });
  } catch (err) {
    throw new SendmailFailure(EXIT.ioError, `cannot read the message from standard input: ${(err as Error).message}`);
  }

  const section = readHeaderSection(raw);
  let recipients = argumentRecipients;
  let hidden: Parameters<typeof removeFields>[2] = [];
  if (options.recipientsFromHeaders) {
    const fromHeaders = recipientsFromHeaders(section, identity.hostname);
    const bad = fromHeaders.malformed[0];
    if (bad) throw new SendmailFailure(EXIT.dataError, `-t: "${bad.text}" in the ${bad.field} header is not an email address; nothing was sent`);
    // Postfix's rule: command-line recipients are added to those in the headers.
    recipients = uniqueAddresses([...argumentRecipients, ...fromHeaders.recipients]);
    hidden = fromHeaders.hiddenFields;
    if (recipients.length === 0) throw usageError('no recipients: -t found no address in the To, Cc or Bcc headers, and none were given as arguments');
  } else {
    recipients = uniqueAddresses(recipients);
  }

  const added = missingHeaders(section, {
    sender,
    localUser: `${identity.user}@${identity.hostname}`,
    fullName: options.fullName,
    hostname: identity.hostname,
    now: new Date(),
    uniqueId: `${Date.now().toString(36)}.${randomBytes(8).toString('hex')}`,
  });
  const message = Buffer.concat([Buffer.from(added, 'utf8'), removeFields(raw, section, hidden)]);

  let ips: string[];
  try {
    ips = await candidateAddresses(server);
  } catch (err) {
    throw unresolvable(server, err);
  }
  const outcome = await submit(server, ips, { from: sender, to: recipients, message, heloName: identity.hostname });
  const verdict = verdictFor(outcome, { server: server.label, sender });
  if (verdict.status !== EXIT.ok || options.verbose) io.stderr.write(`sendmail: ${verdict.message}\n`);
  return verdict.status;
}

/** -f / -r, else KOTAK_SENDMAIL_FROM, else user@hostname. */
function envelopeSender(options: SendmailOptions, env: NodeJS.ProcessEnv, identity: LocalIdentity): string {
  const [given, source] = options.sender !== null ? [options.sender, '-f'] : env.KOTAK_SENDMAIL_FROM ? [env.KOTAK_SENDMAIL_FROM, 'KOTAK_SENDMAIL_FROM'] : [null, ''];
  if (given === null) return `${identity.user}@${identity.hostname}`;
  const sender = parseSenderArgument(given, identity.hostname);
  if (sender === null) throw usageError(`${source}: "${given}" is not an email address (use '<>' for the null sender)`);
  return sender;
}

function unresolvable(server: ServerAddress, err: unknown): SendmailFailure {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new SendmailFailure(EXIT.unavailable, `cannot reach Kotak's SMTP server at ${server.label} (the name does not resolve: ${code}); set -S or KOTAK_SENDMAIL_SMTP`);
}
