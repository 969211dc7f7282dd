/**
 * Mailpit's send API body → an RFC 5322 message and its SMTP envelope, so that POST /api/v1/send
 * stores mail exactly as SMTP intake does (src/ingest.ts). The message is built by nodemailer's
 * MailComposer; checks and error texts follow Mailpit's.
 */
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { z } from 'zod';
import { KotakError } from '../../errors.js';
import type { Envelope } from '../../mail/types.js';
import { cleanTags } from '../../mailbox/tag-names.js';

const AddressSchema = z.object({ Email: z.string(), Name: z.string().nullish() });

export const SendSchema = z.object({
  From: AddressSchema,
  To: z.array(AddressSchema).nullish(),
  Cc: z.array(AddressSchema).nullish(),
  Bcc: z.array(z.string()).nullish(),
  ReplyTo: z.array(AddressSchema).nullish(),
  Subject: z.string().nullish(),
  Text: z.string().nullish(),
  HTML: z.string().nullish(),
  Attachments: z
    .array(z.object({ Content: z.string(), Filename: z.string().nullish(), ContentType: z.string().nullish(), ContentID: z.string().nullish() }))
    .nullish(),
  Headers: z.record(z.string(), z.string()).nullish(),
  Tags: z.array(z.string()).nullish(),
});

export type SendBody = z.infer<typeof SendSchema>;

export interface ComposedMessage {
  readonly raw: Buffer;
  readonly envelope: Envelope;
  /** To be set on the stored message (they are also in its X-Tags header, as Mailpit writes them). */
  readonly tags: string[];
}

/** Headers the structured fields own; Mailpit refuses to let `Headers` overwrite them. */
const RESTRICTED_HEADERS = new Set(['to', 'from', 'cc', 'bcc', 'reply-to', 'date', 'subject', 'content-type', 'mime-version']);

/** A bare address, as Go's mail.ParseAddress accepts in practice: something@something, no spaces or brackets. */
const EMAIL = /^[^\s<>(),;:"@]+@[^\s<>(),;:"@]+$/;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function invalid(message: string): KotakError {
  return new KotakError('invalid_request', message);
}

function checkedAddress(email: string, field: string): string {
  const address = email.trim();
  if (!EMAIL.test(address)) throw invalid(`invalid ${field} address: ${email}`);
  return address;
}

function addresses(list: SendBody['To'], field: string): { name: string; address: string }[] {
  return (list ?? []).map((a) => ({ name: a.Name ?? '', address: checkedAddress(a.Email, field) }));
}

/** Base64 as Go's StdEncoding reads it; a data: URL prefix (what a browser's readAsDataURL gives) is dropped, as Mailpit does. */
function decodeContent(content: string, filename: string): Buffer {
  const base64 = (content.split(',').pop() ?? '').replace(/[\r\n]/g, '');
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) throw invalid(`error decoding base64 attachment "${filename}": illegal base64 data`);
  return Buffer.from(base64, 'base64');
}

function build(options: Mail.Options): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    new MailComposer(options).compile().build((err, raw) => (err ? reject(err) : resolve(raw)));
  });
}

export async function composeMessage(body: SendBody, client: { address: string; user: string | null }): Promise<ComposedMessage> {
  const from = checkedAddress(body.From.Email, 'From');
  const to = addresses(body.To, 'To');
  const cc = addresses(body.Cc, 'Cc');
  const bcc = (body.Bcc ?? []).map((email) => checkedAddress(email, 'Bcc'));
  const replyTo = addresses(body.ReplyTo, 'Reply-To');
  const recipients = [...to.map((a) => a.address), ...cc.map((a) => a.address), ...bcc];
  if (recipients.length === 0) throw invalid('no recipients: set To, Cc or Bcc');

  const tags = cleanTags(body.Tags ?? []);
  const headers: Record<string, string> = {};
  if (tags.length > 0) headers['X-Tags'] = tags.join(', ');
  for (const [name, value] of Object.entries(body.Headers ?? {})) {
    const key = name.toLowerCase();
    if (RESTRICTED_HEADERS.has(key) || (key === 'x-tags' && tags.length > 0)) throw invalid(`cannot overwrite header: "${name}"`);
    if (!/^[!-9;-~]+$/.test(name)) throw invalid(`invalid header name: "${name}"`);
    headers[name] = value;
  }

  const attachments: Mail.Attachment[] = (body.Attachments ?? []).map((a) => {
    const filename = a.Filename ?? '';
    return {
      content: decodeContent(a.Content, filename),
      ...(filename ? { filename } : {}),
      // Without a type, MailComposer goes by the file name (Mailpit sniffs the bytes).
      ...(a.ContentType ? { contentType: a.ContentType } : {}),
      // A Content-ID makes the part inline, in a multipart/related with the HTML.
      ...(a.ContentID ? { cid: a.ContentID.replace(/^<|>$/g, '') } : {}),
    };
  });

  const raw = await build({
    from: { name: body.From.Name ?? '', address: from },
    to,
    cc,
    // Recipients only: the Bcc header is left out, and Kotak shows them from the envelope.
    bcc,
    replyTo,
    subject: body.Subject ?? '',
    text: body.Text ?? '',
    ...(body.HTML ? { html: body.HTML } : {}),
    headers,
    attachments,
  });
  return {
    raw,
    envelope: { mailFrom: from, rcptTo: recipients, clientAddress: client.address, heloName: '', user: client.user, tls: false },
    tags,
  };
}
