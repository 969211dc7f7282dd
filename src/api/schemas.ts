/**
 * The API's data shapes as zod schemas. They validate requests and generate /api/openapi.json;
 * the TypeScript types in src/mail/types.ts are the same shapes for the code.
 */
import { z } from '@hono/zod-openapi';
import { ChaosRefusalSchema } from './chaos-schemas.js';

/** Lists are read-only in our domain types; the schemas say so too. */
const list = <T extends z.ZodType>(item: T) => z.array(item).readonly();

export const AddressSchema = z.object({ name: z.string(), address: z.string() }).openapi('Address');

export const MessageSummarySchema = z
  .object({
    id: z.string().openapi({ example: '01JD8X2V3K9QW0M7ZP4T6R2B1C' }),
    mailbox: z.string().openapi({ example: 'default' }),
    receivedAt: z.string().openapi({ format: 'date-time' }),
    from: AddressSchema.nullable(),
    to: list(AddressSchema),
    cc: list(AddressSchema),
    bcc: list(AddressSchema).openapi({ description: 'Envelope recipients in neither To nor Cc, plus any Bcc header.' }),
    subject: z.string(),
    snippet: z.string(),
    size: z.number().int().openapi({ description: 'Raw size in bytes.' }),
    hasAttachments: z.boolean(),
    read: z.boolean(),
    messageId: z.string().nullable(),
    tags: list(z.string()).openapi({ description: 'Tag names, ordered by name without regard to case.' }),
  })
  .openapi('MessageSummary');

export const HeaderSchema = z.object({ name: z.string(), value: z.string() }).openapi('Header');

export const AttachmentSchema = z
  .object({
    id: z.string().openapi({ description: 'MIME part path; use with /parts/{partId}.', example: '2' }),
    filename: z.string().nullable(),
    contentType: z.string(),
    size: z.number().int(),
    contentId: z.string().nullable(),
    inline: z.boolean(),
  })
  .openapi('Attachment');

export const EnvelopeSchema = z
  .object({
    mailFrom: z.string().openapi({ description: "MAIL FROM; '' for the null sender." }),
    rcptTo: list(z.string()),
    clientAddress: z.string(),
    heloName: z.string(),
    user: z.string().nullable(),
    tls: z.boolean(),
  })
  .openapi('Envelope');

export const RouteSchema = z
  .object({
    mailbox: z.string().openapi({ example: 'billing' }),
    rule: z.string().openapi({ description: "The routing rule that placed it: the --mailbox-route pattern as written, 'smtp-user' or 'default'.", example: '*@billing.test' }),
  })
  .openapi('Route');

export const MessageDetailSchema = MessageSummarySchema.extend({
  text: z.string().nullable(),
  html: z.string().nullable(),
  headers: list(HeaderSchema),
  attachments: list(AttachmentSchema),
  envelope: EnvelopeSchema,
  route: RouteSchema,
  replyTo: list(AddressSchema),
  date: z.string().nullable().openapi({ description: 'The Date header, when readable.' }),
  parseError: z.string().optional().openapi({ description: 'Why parsing failed; the raw source is still available.' }),
  smtpWarnings: list(z.enum(['bare-lf', 'bare-cr'])).optional().openapi({
    description: 'Present when DATA held bare LF or bare CR line endings (an SMTP smuggling signal); the raw source keeps them as received.',
  }),
}).openapi('MessageDetail');

export const LinkSchema = z
  .object({ url: z.string(), text: z.string().openapi({ description: "Anchor text (or image alt); '' for a bare URL in the text part." }) })
  .openapi('Link');

/** What GET /api/messages/{id} answers: the stored detail plus what tests look for in it. */
export const MessageViewSchema = MessageDetailSchema.extend({
  links: list(LinkSchema).openapi({ description: 'Every link in the HTML (in order) and the bare URLs of the text part.' }),
  codes: list(z.string()).openapi({ description: 'Likely one-time codes (4–8 digits near words like code, OTP, verification), best first.' }),
}).openapi('MessageView');

export const MessagePageSchema = z
  .object({
    total: z.number().int().openapi({
      description: 'How many messages match. A search counts at most 1,000 matches past the end of this page; when there are more, `total` is that lower bound and `totalIsLowerBound` is true. Without `query` it is always exact.',
    }),
    totalIsLowerBound: z.boolean().openapi({ description: 'True when at least `total` messages match, perhaps more (the count stopped at its bound).' }),
    messages: list(MessageSummarySchema),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next, older page.' }),
    prevCursor: z.string().nullable().openapi({ description: 'Pass as `after` for the previous, newer page.' }),
  })
  .openapi('MessagePage');

export const StatsSchema = z
  .object({
    total: z.number().int(),
    unread: z.number().int(),
    size: z.number().int(),
    waiters: z.number().int().openapi({ description: 'Requests waiting on /api/messages/wait right now, counting only waits on mailboxes this request sees.' }),
  })
  .openapi('Stats');

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi('Error');

export const MailboxSchema = z
  .object({
    name: z.string().openapi({ example: 'default' }),
    total: z.number().int(),
    unread: z.number().int(),
    size: z.number().int().openapi({ description: 'Raw bytes of its messages.' }),
  })
  .openapi('Mailbox');

export const MailboxListSchema = z.object({ mailboxes: list(MailboxSchema) }).openapi('MailboxList');

export const MailboxNameParamSchema = z.object({
  name: z.string().openapi({ param: { name: 'name', in: 'path' }, description: 'A mailbox name: [a-z0-9][a-z0-9._-]{0,63}.', example: 'default' }),
});

export const DeletedSchema = z.object({ deleted: z.number().int() }).openapi('Deleted');

/** Mailpit's rule for a tag name (src/mailbox/tag-names.ts), refused rather than silently cleaned. */
const TagNameSchema = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9 ._@-]*[A-Za-z0-9._@-][A-Za-z0-9 ._@-]*$/, 'a tag is 1 to 100 letters, digits, spaces, "-", "_", "." or "@"')
  .openapi({ example: 'signup' });

export const TagCountSchema = z.object({ name: z.string(), count: z.number().int() }).openapi('TagCount');
export const TagListSchema = z.object({ tags: list(TagCountSchema) }).openapi('TagList');

export const MessageTagsBodySchema = z
  .object({ tags: z.array(TagNameSchema).max(100).openapi({ description: "The message's tags from now on (an empty list clears them)." }) })
  .strict();

export const TagChangeBodySchema = z
  .object({
    ids: z.array(z.string().min(1).max(64)).min(1).max(1000),
    add: z.array(TagNameSchema).max(100).optional(),
    remove: z.array(TagNameSchema).max(100).optional().openapi({ description: 'Removed after adding: a tag in both lists ends up removed.' }),
  })
  .strict();

export const IdParamSchema = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' } }),
});

export const PartParamSchema = IdParamSchema.extend({
  partId: z
    .string()
    .regex(/^\d+(\.\d+)*$/, 'a part id is a MIME part path such as 2 or 1.2')
    .openapi({ param: { name: 'partId', in: 'path' } }),
});

const hexDigest = (bytes: number, example: string) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`)).openapi({ example });

export const PartChecksumsSchema = z
  .object({
    md5: hexDigest(16, '9e107d9d372bb6826bd81d3542a419d6'),
    sha1: hexDigest(20, '2fd4e1c67a2d28fced849ee1bb76e7391b93eb12'),
    sha256: hexDigest(32, 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592'),
  })
  .openapi('PartChecksums', { description: "Digests of the attachment's decoded bytes (what a download holds), lower-case hex." });

/**
 * `?mailbox=NAME`: repeatable, and a value may list names with commas. One value arrives as a
 * string, several as an array; names are checked by src/mail/mailbox-name.ts (an invalid one is a
 * 400 `invalid_mailbox`), so the schema only bounds the sizes.
 */
const mailboxName = z.string().max(1024);
export const MailboxParamSchema = z
  .union([mailboxName, z.array(mailboxName).max(100)])
  .optional()
  .openapi({
    param: { name: 'mailbox', in: 'query', style: 'form', explode: true },
    description: "Only these mailboxes (repeat the parameter, or separate names with commas); without it, every mailbox. A name is `[a-z0-9][a-z0-9._-]{0,63}`.",
    example: 'default',
  });

export const ListQuerySchema = z.object({
  mailbox: MailboxParamSchema,
  query: z.string().max(4096).optional().openapi({ description: 'Search, in the Mailpit-compatible syntax.' }),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  cursor: z.string().max(32).optional().openapi({ description: 'A nextCursor: the page of older messages.' }),
  after: z.string().max(32).optional().openapi({ description: "A prevCursor: the page of newer messages. '0' gives the oldest page." }),
  start: z.coerce.number().int().min(0).max(10_000_000).default(0).openapi({
    description: 'Skip this many matching messages first (counted from the newest, or from `cursor`): a jump into the middle of a long list. Not with `after`.',
  }),
});

export const HtmlQuerySchema = z.object({
  remote: z.enum(['0', '1']).default('0').openapi({ description: 'Load remote images and stylesheets (1) or block them (0).' }),
});

export const DeleteQuerySchema = z.object({
  mailbox: MailboxParamSchema,
  query: z.string().max(4096).optional().openapi({ description: 'Delete the matching messages; without it, all.' }),
});

/** The query string of the routes that take nothing but the mailboxes (stats, the bulk mark-read). */
export const MailboxQuerySchema = z.object({ mailbox: MailboxParamSchema });

export const PatchBodySchema = z.object({ read: z.boolean() }).strict();

export const BulkPatchBodySchema = z
  .object({ read: z.boolean(), query: z.string().max(4096).optional().openapi({ description: 'Only the matching messages; without it, all.' }) })
  .strict();

export const UpdatedSchema = z.object({ updated: z.number().int() }).openapi('Updated');

export const TagApplyQuerySchema = z.object({
  mailbox: MailboxParamSchema,
  query: z.string().max(4096).optional().openapi({ description: 'Only the matching messages; without it, all.' }),
});

export const TagApplyResultSchema = z
  .object({
    scanned: z.number().int().openapi({ description: 'Messages looked at' }),
    tagged: z.number().int().openapi({ description: 'Messages that got at least one tag they did not have' }),
  })
  .openapi('TagApplyResult');

export const WaitQuerySchema = z.object({
  mailbox: MailboxParamSchema,
  query: z.string().max(4096).optional().openapi({ description: 'Search, in the same syntax as the list; without it, any message.' }),
  since: z
    .string()
    .max(64)
    .optional()
    .openapi({ description: 'Only messages received at or after this time: ISO 8601 or epoch milliseconds.', example: '2026-11-28T10:00:00.000Z' }),
  count: z.coerce.number().int().min(1).max(1000).default(1).openapi({ description: 'How many matching messages to wait for.' }),
  timeout: z
    .string()
    .max(32)
    .optional()
    .openapi({ description: 'Seconds, or a duration such as 500ms or 2m. Default 30 s; capped by the server (--max-wait).', example: '30' }),
});

export const WaitResultSchema = z.object({ messages: list(MessageSummarySchema) }).openapi('WaitResult');

export const WaitTimeoutSchema = z
  .object({
    error: z.object({ code: z.literal('wait_timeout'), message: z.string() }),
    matched: z.number().int().openapi({ description: 'How many matching messages there were when time ran out.' }),
    messages: list(MessageSummarySchema).openapi({ description: 'Those messages, oldest first.' }),
    recent: list(MessageSummarySchema).openapi({ description: 'The newest few messages received in the window that did not match.' }),
  })
  .openapi('WaitTimeout');

export const RelayAttemptSchema = z
  .object({
    at: z.string().openapi({ format: 'date-time' }),
    mxHost: z.string().nullable(),
    outcome: z.enum(['delivered', 'deferred', 'failed']),
    reply: z.string().nullable().openapi({ description: 'The remote reply, as received.' }),
    transcript: list(z.string()).openapi({ description: 'Commands and replies (no message content, no credentials).' }),
  })
  .openapi('RelayAttempt');

export const RelayJobSchema = z
  .object({
    id: z.number().int(),
    messageId: z.string(),
    recipient: z.string(),
    domain: z.string(),
    status: z.enum(['queued', 'sending', 'delivered', 'deferred', 'failed']),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    giveUpAt: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    mxHost: z.string().nullable(),
    reply: z.string().nullable(),
    reason: z.string().nullable(),
    tls: z.string().nullable().openapi({ description: 'TLS protocol and cipher of the last connection; null for plaintext.' }),
    mailbox: z.string().openapi({ description: 'The mailbox of the message it delivers.' }),
  })
  .openapi('RelayJob');

export const DeliveriesSchema = z
  .object({ deliveries: list(RelayJobSchema.extend({ history: list(RelayAttemptSchema) })) })
  .openapi('Deliveries');

export const RelayQueueSchema = z.object({ jobs: list(RelayJobSchema) }).openapi('RelayQueue');

export const RelayQueueQuerySchema = z.object({
  status: z.enum(['queued', 'sending', 'delivered', 'deferred', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const ReleaseBodySchema = z
  .object({ to: z.array(z.string().min(3).max(320)).min(1).max(1000).optional().openapi({ description: 'Recipients instead of the envelope recipients; each must be allowed by --relay-allow.' }) })
  .strict();

export const RelayStatusSchema = z
  .object({
    enabled: z.boolean(),
    auto: z.boolean(),
    allow: list(z.string()).openapi({ description: "Recipient patterns; ['*'] when every recipient is allowed." }),
    smarthost: z.string().nullable(),
    requireTls: z.boolean(),
  })
  .openapi('RelayStatus');

/** `GET /api/smtp`: where to send mail, for the inbox's empty state and for people setting up an app. */
export const SmtpInfoSchema = z
  .object({
    host: z.string().openapi({ description: "The address SMTP listens on, as configured; '0.0.0.0' or '::' is every interface (use the name this machine is reached by)." }),
    port: z.number().int().openapi({ description: 'The port bound (the real one when started on port 0).' }),
    auth: z.enum(['off', 'any', 'password']).openapi({ description: 'off: no AUTH; any: AUTH required, any user and password accepted; password: AUTH against an htpasswd file.' }),
    tls: z.enum(['off', 'starttls', 'required', 'implicit']).openapi({ description: 'off: no TLS; starttls: offered; required: STARTTLS before MAIL; implicit: TLS from the first byte.' }),
    selfSigned: z.boolean().openapi({ description: 'The certificate was made at start (--smtp-tls auto): clients must be told not to verify it.' }),
  })
  .openapi('SmtpInfo');
export type SmtpInfo = z.infer<typeof SmtpInfoSchema>;

/** One `{ type, data }` frame of /api/live (src/live/protocol.ts is the TypeScript side). */
const frame = <T extends string, D extends z.ZodType>(type: T, data: D, name: string) =>
  z.object({ type: z.literal(type), data }).openapi(name);

export const LiveFrameSchema = z
  .discriminatedUnion('type', [
    frame('message:stored', MessageSummarySchema, 'MessageStoredFrame'),
    frame('message:updated', z.object({ id: z.string(), mailbox: z.string(), read: z.boolean() }), 'MessageUpdatedFrame'),
    frame(
      'messages:updated',
      z.object({ mailbox: z.string(), read: z.boolean(), count: z.number().int() }).openapi({ description: 'A bulk mark of one mailbox: one frame per mailbox changed.' }),
      'MessagesUpdatedFrame',
    ),
    frame(
      'message:deleted',
      z.object({ mailbox: z.string(), ids: list(z.string()) }).openapi({ description: 'Deleted messages of one mailbox: a deletion across mailboxes is one frame per mailbox.' }),
      'MessageDeletedFrame',
    ),
    frame('messages:cleared', z.object({}).strict(), 'MessagesClearedFrame'),
    frame('relay:updated', RelayJobSchema, 'RelayUpdatedFrame'),
    frame('message:tagged', z.object({ id: z.string(), mailbox: z.string(), tags: list(z.string()) }).openapi({ description: "A message's tags as stored now." }), 'MessageTaggedFrame'),
    frame(
      'tags:changed',
      z
        .object({ mailbox: z.string().nullable() })
        .openapi({ description: 'A tag was renamed or removed across many messages (refetch): of this mailbox, or of any (null).' }),
      'TagsChangedFrame',
    ),
    // chaos
    frame('chaos:refused', ChaosRefusalSchema.openapi({ description: 'A chaos rule refused a message of this mailbox (it was not stored).' }), 'ChaosRefusedFrame'),
  ])
  .openapi('LiveFrame', { description: 'One text frame of the /api/live WebSocket: JSON, sent only after the change it reports is committed.' });

// checks: spam
export const SpamRuleSchema = z
  .object({
    name: z.string().openapi({ example: 'GTUBE' }),
    score: z.number().openapi({ description: 'Points this rule added (negative: taken away), as spamd reports them.' }),
    description: z.string().openapi({ example: 'BODY: Generic Test for Unsolicited Bulk Email' }),
  })
  .openapi('SpamRule');

export const SpamCheckSchema = z
  .object({
    score: z.number().openapi({ description: "SpamAssassin's score for the message." }),
    threshold: z.number().openapi({ description: "spamd's required_score: at or above it a message is spam (5.0 by default)." }),
    isSpam: z.boolean(),
    rules: list(SpamRuleSchema).openapi({ description: 'Every rule that hit, in the order of spamd\'s report.' }),
    truncated: z.boolean().openapi({ description: 'Only the first checkedBytes were scored (--spamassassin-max-size).' }),
    checkedBytes: z.number().int(),
    messageBytes: z.number().int(),
  })
  .openapi('SpamCheck');
// checks: deliverability
const AlignmentSchema = z
  .object({ strict: z.boolean().openapi({ description: 'The same domain.' }), relaxed: z.boolean().openapi({ description: 'The same organizational domain (public suffix list).' }) })
  .openapi('Alignment');
const CheckRuleSchema = z
  .object({
    id: z.string().openapi({ example: 'dkim-aligned' }),
    title: z.string(),
    result: z.enum(['pass', 'fail', 'not_applicable']),
    reason: z.string(),
    source: z.string().openapi({ description: 'Where the rule is written (Google\'s sender guidelines, Yahoo\'s best practices, an RFC).' }),
  })
  .openapi('DeliverabilityRule');
const DmarcPolicySchema = z.object({
  p: z.string().nullable(),
  sp: z.string().nullable(),
  adkim: z.enum(['r', 's']),
  aspf: z.enum(['r', 's']),
  pct: z.number().int(),
});
export const DeliverabilityReportSchema = z
  .object({
    from: z.object({ address: z.string().nullable().openapi({ description: 'The one From address; null when there is none or several.' }), domain: z.string().nullable() }),
    envelope: z.object({
      mailFrom: z.string().nullable().openapi({ description: 'MAIL FROM; null for the null sender.' }),
      domain: z.string().nullable(),
      alignment: AlignmentSchema.nullable().openapi({ description: 'Of the envelope domain with the From domain (what SPF alignment needs; SPF itself is not judged).' }),
    }),
    dkim: z.object({
      signatures: list(
        z.object({
          domain: z.string().openapi({ description: 'd=' }),
          selector: z.string().openapi({ description: 's=' }),
          algorithm: z.string().openapi({ description: 'a=', example: 'rsa-sha256' }),
          result: z.enum(['pass', 'fail', 'temperror', 'permerror']),
          reason: z.string().nullable().openapi({ description: 'Why it did not pass (body hash, bad signature, no key, DNS failure…); null when it passed.' }),
          alignment: AlignmentSchema.openapi({ description: 'Of d= with the From domain; counts for DMARC only when the signature passes.' }),
          coveredHeaders: list(z.string()).openapi({ description: 'Present header fields the signature covers (h=), lower-cased.' }),
        }),
      ),
      aligned: AlignmentSchema.openapi({ description: 'Whether some passing signature aligns with the From domain.' }),
    }),
    dmarc: z
      .discriminatedUnion('result', [
        z.object({
          result: z.literal('found'),
          domain: z.string(),
          atOrganizationalDomain: z.boolean(),
          record: z.string(),
          policy: DmarcPolicySchema,
          dkimAligned: z.boolean().openapi({ description: 'DKIM alignment as the record\'s adkim= asks: DMARC would pass on DKIM.' }),
          reason: z.string(),
        }),
        z.object({ result: z.literal('none'), domain: z.string(), reason: z.string() }),
        z.object({ result: z.literal('temperror'), domain: z.string(), reason: z.string() }),
      ])
      .nullable()
      .openapi({ description: 'The From domain\'s DMARC record; null without a From domain.' }),
    unsubscribe: z.object({
      listUnsubscribe: z.string().nullable(),
      targets: list(z.object({ uri: z.string(), scheme: z.string() })),
      problems: list(z.string()).openapi({ description: 'What is wrong with List-Unsubscribe; empty when it is well formed or absent.' }),
      listUnsubscribePost: z.string().nullable(),
      oneClick: z.object({ result: z.enum(['pass', 'fail', 'absent']), reason: z.string() }),
    }),
    bulk: z.object({ bulk: z.boolean(), reason: z.string() }).openapi({ description: 'Whether the message looks like bulk mail (List-Id, List-Unsubscribe, Precedence: bulk/list/junk).' }),
    rules: list(CheckRuleSchema).openapi({ description: 'The Gmail/Yahoo sender requirements that one message can show.' }),
  })
  .openapi('DeliverabilityReport');
// checks: links
export const LinkCheckQuerySchema = z.object({
  follow: z.enum(['true', 'false', '1', '0']).optional().openapi({ description: 'Follow redirects (up to 5), recording each hop; without it a redirect is the answer.' }),
});

export const LinkHopSchema = z
  .object({
    url: z.string(),
    method: z.enum(['HEAD', 'GET']).openapi({ description: 'HEAD, or GET where the server refused HEAD (405, 501, or a dropped connection).' }),
    status: z.number().int(),
    location: z.string().nullable().openapi({ description: 'The Location header of a redirect.' }),
    bodyBytes: z.number().int().openapi({ description: 'Bytes of the body read (at most 64 KB, never kept).' }),
  })
  .openapi('LinkHop');

export const LinkResultSchema = z
  .object({
    url: z.string().openapi({ description: 'As written in the message.' }),
    kind: z.enum(['link', 'image', 'stylesheet']),
    outcome: z.enum(['ok', 'broken', 'redirect-limit', 'refused', 'failed', 'timeout', 'not-checked']).openapi({
      description:
        'ok: answered below 400 (an unfollowed redirect included); broken: 400 or above; redirect-limit: still redirecting after 5; ' +
        'refused: its address is not public, so it was not fetched (--link-check-private allows it); failed: no HTTP answer (DNS, connection, TLS); ' +
        'timeout: no answer in time; not-checked: not an http(s) URL.',
    }),
    status: z.number().int().nullable().openapi({ description: 'The last HTTP status received; null when none was.' }),
    statusText: z.string(),
    reason: z.string().nullable().openapi({ description: 'What was refused, which error, which limit.' }),
    hops: list(LinkHopSchema).openapi({ description: 'Every request made: the link, then each redirect followed.' }),
  })
  .openapi('LinkResult');

export const LinkCheckSchema = z
  .object({
    follow: z.boolean(),
    found: z.number().int().openapi({ description: 'Unique URLs in the HTML (links, images, stylesheets) and the text part.' }),
    omitted: z.number().int().openapi({ description: 'Unique URLs past the first 100, not checked.' }),
    checked: z.number().int().openapi({ description: 'Links fetched.' }),
    errors: z.number().int().openapi({ description: 'Links broken, refused, failed, timed out or redirecting too long.' }),
    links: list(LinkResultSchema),
  })
  .openapi('LinkCheck');
// checks: html
const PercentagesSchema = z
  .object({ supported: z.number(), partial: z.number(), unsupported: z.number() })
  .openapi('CheckPercentages', { description: 'Shares in percent, 0–100, two decimals.' });

export const HtmlCheckClientSchema = z
  .object({
    family: z.string().openapi({ example: 'outlook' }),
    familyName: z.string().openapi({ example: 'Outlook' }),
    platform: z.string().openapi({ example: 'windows' }),
    platformName: z.string().openapi({ example: 'Windows' }),
    version: z.string().openapi({ example: '2019' }),
    support: z.enum(['yes', 'partial', 'no', 'unknown']),
    notes: list(z.string()).openapi({ description: 'What the data says about this result (why partial, what to watch for).' }),
  })
  .openapi('HtmlCheckClient');

export const HtmlCheckFeatureSchema = z
  .object({
    slug: z.string().openapi({ example: 'css-display-flex' }),
    title: z.string().openapi({ example: 'display:flex' }),
    category: z.string().openapi({ description: 'caniemail\'s category: html, css, image or others.' }),
    description: z.string(),
    url: z.string().openapi({ description: 'The feature\'s caniemail.com page; empty for script elements (slug `html-script`), which Kotak reports (as Mailpit does) though caniemail has no page for them.' }),
    count: z.number().int().openapi({ description: 'How often the HTML uses it.' }),
    first: z
      .object({ line: z.number().int(), column: z.number().int(), snippet: z.string() })
      .openapi({ description: 'Where it is first used, in the HTML part (1-based); for a `style` attribute, its element.' }),
    score: PercentagesSchema.openapi({ description: 'Over every tested client version whose result is known.' }),
    clients: list(HtmlCheckClientSchema).openapi({ description: 'Every tested client family, platform and version.' }),
  })
  .openapi('HtmlCheckFeature');

export const HtmlCheckSchema = z
  .object({
    hasHtml: z.boolean().openapi({ description: 'false: the message has no HTML part, so there was nothing to check (`features` is empty).' }),
    data: z
      .object({
        source: z.string().openapi({ example: 'https://www.caniemail.com/' }),
        updated: z.string().openapi({ description: 'The date of the bundled caniemail.com data.', example: '2025-09-09' }),
        apiVersion: z.string(),
      })
      .openapi({ description: 'The caniemail.com data the check used.' }),
    nodes: z.number().int().openapi({ description: 'Elements in the HTML (all but html, head and meta), as Mailpit counts them.' }),
    tests: z.number().int().openapi({ description: 'How many features the HTML was tested against.' }),
    total: PercentagesSchema.openapi({
      description: 'Weighted as Mailpit does: each feature\'s partial and unsupported shares times its count over `nodes`; the largest of each, and the rest supported.',
    }),
    features: list(HtmlCheckFeatureSchema).openapi({ description: 'The features the HTML uses, the heaviest on the total first.' }),
  })
  .openapi('HtmlCheck');
