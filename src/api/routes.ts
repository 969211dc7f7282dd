/** Kotak's HTTP API, one route per line group: the table others build on. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  BulkPatchBodySchema, DeleteQuerySchema, DeletedSchema, ErrorSchema, HtmlQuerySchema, IdParamSchema, ListQuerySchema,
  MailboxQuerySchema, MessagePageSchema, MessageViewSchema, PartChecksumsSchema, PartParamSchema, PatchBodySchema, StatsSchema, MessageSummarySchema, UpdatedSchema,
  WaitQuerySchema, WaitResultSchema, WaitTimeoutSchema, DeliveriesSchema, RelayJobSchema, RelayQueueQuerySchema,
  RelayQueueSchema, RelayStatusSchema, ReleaseBodySchema, LiveFrameSchema, MailboxListSchema, MailboxNameParamSchema,
  SpamCheckSchema,
  DeliverabilityReportSchema,
  LinkCheckQuerySchema, LinkCheckSchema,
  HtmlCheckSchema,
  MessageTagsBodySchema, TagApplyQuerySchema, TagApplyResultSchema, TagChangeBodySchema, TagListSchema,
  SmtpInfoSchema,
} from './schemas.js';
import { WebhookDeliveriesQuerySchema, WebhookDeliveriesSchema } from './webhook-schemas.js';
import { ChaosIdParamSchema, ChaosRefusalListSchema, ChaosRuleBodySchema, ChaosRuleListSchema, ChaosRuleSchema, ChaosRulesBodySchema } from './chaos-schemas.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const error = (description: string) => json(ErrorSchema, description);
const binary = (type: string, description: string) => ({ content: { [type]: { schema: z.string().openapi({ format: 'binary' }) } }, description });

/**
 * What the gates in front of every route but the probes answer (src/api/app.ts): credentials when
 * --http-auth or --http-token is on, the host and origin checks for browsers.
 */
const gates = {
  401: error('Credentials required (Kotak runs with --http-auth or --http-token), or not accepted'),
  403: error('Refused: a browser under a Host name Kotak does not know, or a write from another page\'s origin'),
  429: error('Too many failed logins from this address; wait a minute'),
};
/** Any parameter, query or body that fails its schema. */
const invalid = (description = 'A parameter does not match its schema') => ({ 400: error(description) });
/** Routes that read a JSON body (capped at 5 MB while it streams). */
const withBody = { 413: error('Request body over 5 MB') };

export const routes = {
  listMessages: createRoute({
    operationId: 'listMessages', method: 'get', path: '/api/messages', tags: ['messages'], summary: 'List or search messages, newest first',
    request: { query: ListQuerySchema },
    responses: { 200: json(MessagePageSchema, 'A page of summaries'), 400: error('Invalid query, cursor or mailbox'), ...gates },
  }),
  deleteMessages: createRoute({
    operationId: 'deleteMessages', method: 'delete', path: '/api/messages', tags: ['messages'], summary: 'Delete the messages matching a query (all without one)',
    request: { query: DeleteQuerySchema },
    responses: { 200: json(DeletedSchema, 'How many were deleted'), 400: error('Invalid query or mailbox'), ...gates },
  }),
  // Before /api/messages/{id}, which would otherwise take "wait" for an id.
  waitForMessages: createRoute({
    operationId: 'waitForMessages', method: 'get', path: '/api/messages/wait', tags: ['testing'],
    summary: 'Wait until `count` messages matching `query`, received at or after `since`, exist (already stored or arriving); oldest first',
    request: { query: WaitQuerySchema },
    responses: {
      200: json(WaitResultSchema, 'The matching messages, oldest first'),
      400: error('Invalid query, since, timeout or mailbox'),
      408: json(WaitTimeoutSchema, 'Not enough matching messages in time'),
      ...gates,
    },
  }),
  patchMessages: createRoute({
    operationId: 'patchMessages', method: 'patch', path: '/api/messages', tags: ['messages'], summary: 'Mark the messages matching a query (all without one) read or unread',
    request: { query: MailboxQuerySchema, body: { content: { 'application/json': { schema: BulkPatchBodySchema } }, required: true } },
    responses: { 200: json(UpdatedSchema, 'How many changed'), 400: error('Invalid body, query or mailbox'), ...withBody, ...gates },
  }),
  getMessage: createRoute({
    operationId: 'getMessage', method: 'get', path: '/api/messages/{id}', tags: ['messages'], summary: 'One message, parsed',
    request: { params: IdParamSchema },
    responses: { 200: json(MessageViewSchema, 'The message, with its links and likely one-time codes'), 404: error('No such message'), ...invalid(), ...gates },
  }),
  getRaw: createRoute({
    operationId: 'getRaw', method: 'get', path: '/api/messages/{id}/raw', tags: ['messages'], summary: 'The exact bytes received',
    request: { params: IdParamSchema },
    responses: { 200: binary('message/rfc822', 'The raw message'), 404: error('No such message'), ...invalid(), ...gates },
  }),
  getHtml: createRoute({
    operationId: 'getHtml', method: 'get', path: '/api/messages/{id}/html', tags: ['messages'],
    summary: 'The HTML body as a safe document for a sandboxed iframe: scripts and handlers removed, cid: images resolved, remote content blocked unless asked for',
    request: { params: IdParamSchema, query: HtmlQuerySchema },
    responses: { 200: { content: { 'text/html': { schema: z.string() } }, description: 'The document' }, 404: error('No such message, or it has no HTML body'), ...invalid(), ...gates },
  }),
  getPart: createRoute({
    operationId: 'getPart', method: 'get', path: '/api/messages/{id}/parts/{partId}', tags: ['messages'], summary: 'An attachment, decoded, as a download',
    request: { params: PartParamSchema },
    responses: {
      200: binary('application/octet-stream', 'The attachment bytes'),
      404: error('No such message or part'),
      422: error('The message was kept unparsed (over a structure limit, or the parser failed): its parts cannot be read; its raw source can'),
      ...invalid('Not a part id (a MIME part path such as 2 or 1.2)'),
      ...gates,
    },
  }),
  getPartChecksums: createRoute({
    operationId: 'getPartChecksums', method: 'get', path: '/api/messages/{id}/parts/{partId}/checksums', tags: ['messages'],
    summary: "MD5, SHA-1 and SHA-256 of an attachment's decoded bytes, computed now (hashed as the part is decoded, never held whole)",
    request: { params: PartParamSchema },
    responses: {
      200: json(PartChecksumsSchema, 'The digests'),
      404: error('No such message or part'),
      422: error('The message was kept unparsed (over a structure limit, or the parser failed): its parts cannot be read; its raw source can'),
      ...invalid('Not a part id (a MIME part path such as 2 or 1.2)'),
      ...gates,
    },
  }),
  patchMessage: createRoute({
    operationId: 'patchMessage', method: 'patch', path: '/api/messages/{id}', tags: ['messages'], summary: 'Mark a message read or unread',
    request: { params: IdParamSchema, body: { content: { 'application/json': { schema: PatchBodySchema } }, required: true } },
    responses: { 200: json(MessageSummarySchema, 'The updated message'), 400: error('Invalid body'), 404: error('No such message'), ...withBody, ...gates },
  }),
  deleteMessage: createRoute({
    operationId: 'deleteMessage', method: 'delete', path: '/api/messages/{id}', tags: ['messages'], summary: 'Delete one message',
    request: { params: IdParamSchema },
    responses: { 200: json(DeletedSchema, 'Deleted'), 404: error('No such message'), ...invalid(), ...gates },
  }),
  releaseMessage: createRoute({
    operationId: 'releaseMessage', method: 'post', path: '/api/messages/{id}/release', tags: ['relay'],
    summary: 'Deliver a message for real (to its envelope recipients, or to `to`), through the relay queue',
    request: { params: IdParamSchema, body: { content: { 'application/json': { schema: ReleaseBodySchema } }, required: false } },
    responses: {
      202: json(z.object({ jobs: z.array(RelayJobSchema) }).openapi('Released'), 'Queued'),
      ...gates,
      403: error('A recipient is not allowed by --relay-allow (nothing was queued); or refused by the host or origin check'),
      404: error('No such message'),
      409: error('Relay is off'),
      ...invalid('Invalid body'),
      ...withBody,
    },
  }),
  getDeliveries: createRoute({
    operationId: 'getDeliveries', method: 'get', path: '/api/messages/{id}/deliveries', tags: ['relay'], summary: 'Relay jobs of a message, with every attempt',
    request: { params: IdParamSchema },
    responses: { 200: json(DeliveriesSchema, 'Per recipient: status, attempts, replies'), ...invalid(), ...gates },
  }),
  relayQueue: createRoute({
    operationId: 'relayQueue', method: 'get', path: '/api/relay/queue', tags: ['relay'], summary: 'Relay jobs, newest first',
    request: { query: RelayQueueQuerySchema },
    responses: { 200: json(RelayQueueSchema, 'Jobs'), ...invalid('Invalid status or limit'), ...gates },
  }),
  relayStatus: createRoute({
    operationId: 'relayStatus', method: 'get', path: '/api/relay', tags: ['relay'], summary: 'Whether relay is on, and to whom',
    responses: { 200: json(RelayStatusSchema, 'Relay settings (no credentials)'), ...gates },
  }),
  listWebhookDeliveries: createRoute({
    operationId: 'listWebhookDeliveries', method: 'get', path: '/api/webhooks/deliveries', tags: ['webhooks'],
    summary: 'Webhook deliveries in the outbox, newest first, each with its attempts (a scoped login: those of its mailboxes); an empty list when no webhook is configured',
    request: { query: WebhookDeliveriesQuerySchema },
    responses: { 200: json(WebhookDeliveriesSchema, 'A page of deliveries'), ...invalid('Invalid endpoint, status, limit or before'), ...gates },
  }),
  listMailboxes: createRoute({
    operationId: 'listMailboxes', method: 'get', path: '/api/mailboxes', tags: ['mailboxes'],
    summary: 'Every mailbox (those holding messages, default and those named by --mailbox-route) with its kept counts, by name',
    responses: { 200: json(MailboxListSchema, 'The mailboxes'), ...gates },
  }),
  deleteMailbox: createRoute({
    operationId: 'deleteMailbox', method: 'delete', path: '/api/mailboxes/{name}', tags: ['mailboxes'],
    summary: 'Delete every message of a mailbox (a configured mailbox, default included, stays listed, empty)',
    request: { params: MailboxNameParamSchema },
    responses: { 200: json(DeletedSchema, 'How many were deleted'), 404: error('No such mailbox'), ...invalid('Not a mailbox name'), ...gates },
  }),
  listTags: createRoute({
    operationId: 'listTags', method: 'get', path: '/api/tags', tags: ['tags'], summary: 'Every tag the messages hold (of the given mailboxes, or of all), with how many hold it, by name',
    request: { query: MailboxQuerySchema },
    responses: { 200: json(TagListSchema, 'The tags'), ...invalid('Invalid mailbox'), ...gates },
  }),
  changeTags: createRoute({
    operationId: 'changeTags', method: 'post', path: '/api/messages/tags', tags: ['tags'],
    summary: 'Add and remove tags on the given messages, each keeping its other tags (unknown ids are left out)',
    request: { body: { content: { 'application/json': { schema: TagChangeBodySchema } }, required: true } },
    responses: { 200: json(UpdatedSchema, 'How many messages changed'), ...invalid('Invalid body or tag name'), ...withBody, ...gates },
  }),
  applyTags: createRoute({
    operationId: 'applyTags', method: 'post', path: '/api/tags/apply', tags: ['tags'],
    summary: "Tag stored messages as intake would now (X-Tags, --tags-from-plus, --tag-smtp-user, --tag-rule): only adds tags; the matching messages of the given mailboxes, or all",
    request: { query: TagApplyQuerySchema },
    responses: { 200: json(TagApplyResultSchema, 'How many were looked at and tagged'), 400: error('Invalid query or mailbox'), ...gates },
  }),
  setMessageTags: createRoute({
    operationId: 'setMessageTags', method: 'put', path: '/api/messages/{id}/tags', tags: ['tags'], summary: "Replace a message's tags",
    request: { params: IdParamSchema, body: { content: { 'application/json': { schema: MessageTagsBodySchema } }, required: true } },
    responses: { 200: json(MessageSummarySchema, 'The message, with its tags as stored'), 404: error('No such message'), ...invalid('Invalid body or tag name'), ...withBody, ...gates },
  }),
  stats: createRoute({
    operationId: 'stats', method: 'get', path: '/api/stats', tags: ['system'], summary: 'Totals (of the given mailboxes, or of all)',
    request: { query: MailboxQuerySchema },
    responses: { 200: json(StatsSchema, 'Message counts and size'), ...invalid('Invalid mailbox'), ...gates },
  }),
  smtpInfo: createRoute({
    operationId: 'smtpInfo', method: 'get', path: '/api/smtp', tags: ['system'], summary: 'Where to send mail: the SMTP address and what it asks of a client (AUTH, TLS)',
    responses: { 200: json(SmtpInfoSchema, 'The SMTP listener (no credentials)'), ...gates },
  }),
  livez: createRoute({
    operationId: 'livez', method: 'get', path: '/livez', tags: ['system'], summary: 'Liveness probe (open even with authentication on)', security: [],
    responses: { 200: json(z.object({ status: z.literal('ok') }), 'Alive'), 403: gates[403] },
  }),
  readyz: createRoute({
    operationId: 'readyz', method: 'get', path: '/readyz', tags: ['system'], summary: 'Readiness probe: checks the database (open even with authentication on)', security: [],
    responses: { 200: json(z.object({ status: z.literal('ok') }), 'Ready'), 403: gates[403], 503: error('Database unavailable') },
  }),
  // checks: spam
  checkSpam: createRoute({
    operationId: 'checkSpam', method: 'get', path: '/api/messages/{id}/checks/spam', tags: ['checks'],
    summary: 'Score the message with SpamAssassin (the spamd of --spamassassin): score, threshold, verdict and every rule that hit',
    request: { params: IdParamSchema },
    responses: {
      200: json(SpamCheckSchema, 'spamd\'s verdict and rules'),
      404: error('No such message'),
      409: error('The spam check is off: Kotak runs without --spamassassin'),
      502: error('spamd answered with an error, or with something that is not a SPAMD reply'),
      503: error('spamd is not reachable: the connection was refused, or closed before an answer'),
      504: error('spamd did not answer within --spamassassin-timeout'),
      ...invalid(),
      ...gates,
    },
  }),
  // checks: deliverability
  checkDeliverability: createRoute({
    operationId: 'checkDeliverability', method: 'get', path: '/api/messages/{id}/checks/deliverability', tags: ['checks'],
    summary: 'DKIM signatures verified over DNS (--dns), the From domain\'s DMARC record, List-Unsubscribe and one-click (RFC 8058), and the Gmail/Yahoo sender rules one message can show',
    request: { params: IdParamSchema },
    responses: {
      200: json(DeliverabilityReportSchema, 'The report; DNS that did not answer in time is a temperror in it'),
      404: error('No such message'),
      422: error('The message is over the check\'s size limit (check_too_large)'),
      ...invalid(),
      ...gates,
    },
  }),
  // checks: links
  checkLinks: createRoute({
    operationId: 'checkLinks', method: 'get', path: '/api/messages/{id}/checks/links', tags: ['checks'],
    summary: 'Check every unique link and image URL of the message (the first 100): HEAD (GET where refused), 10 s each; non-public addresses refused unless --link-check-private',
    request: { params: IdParamSchema, query: LinkCheckQuerySchema },
    responses: {
      200: json(LinkCheckSchema, 'Each link with its outcome, status and hops'),
      404: error('No such message'),
      422: error('check_too_large: the message\'s HTML and text are more than the check reads'),
      ...invalid(),
      ...gates,
    },
  }),
  // checks: html
  checkHtml: createRoute({
    operationId: 'checkHtml', method: 'get', path: '/api/messages/{id}/checks/html', tags: ['checks'],
    summary: 'HTML compatibility: every HTML and CSS feature the message uses, with its support in each email client (caniemail.com data, bundled)',
    request: { params: IdParamSchema },
    responses: {
      200: json(HtmlCheckSchema, 'The features used, worst first, and a total weighted as Mailpit weights it; `hasHtml: false` for a message without HTML'),
      404: error('No such message'),
      422: error('`check_too_large`: the HTML (over 2 MB) or its CSS (over 1 MB, 100 000 rules and declarations, 32 levels of nesting, or a 10 000-character selector list) is over a limit of the check'),
      ...invalid(),
      ...gates,
    },
  }),
  // chaos
  listChaosRules: createRoute({
    operationId: 'listChaosRules', method: 'get', path: '/api/chaos', tags: ['chaos'], summary: 'The chaos rules this login may see (a scoped login: those of its mailboxes), in the order they are tried, with their counters',
    responses: { 200: json(ChaosRuleListSchema, 'The rules'), ...gates },
  }),
  replaceChaosRules: createRoute({
    operationId: 'replaceChaosRules', method: 'put', path: '/api/chaos', tags: ['chaos'], summary: 'Replace every rule this login may see by these (all checked first: one bad rule changes nothing)',
    request: { body: { content: { 'application/json': { schema: ChaosRulesBodySchema } }, required: true } },
    responses: {
      200: json(ChaosRuleListSchema, 'The new rules, with their ids'),
      ...invalid('A rule is not valid: the message names it (rules.N.) and the field'),
      ...withBody,
      ...gates,
      403: error('A rule without a mailbox, or with one this login may not see (mailbox_not_allowed); or refused by the host or origin check'),
    },
  }),
  addChaosRule: createRoute({
    operationId: 'addChaosRule', method: 'post', path: '/api/chaos', tags: ['chaos'], summary: 'Add a rule (tried after the others); its id removes it',
    request: { body: { content: { 'application/json': { schema: ChaosRuleBodySchema } }, required: true } },
    responses: {
      201: json(ChaosRuleSchema, 'The rule, with its id'),
      ...invalid('Not a valid rule: the message names the field'),
      ...withBody,
      ...gates,
      403: error('A rule without a mailbox, or with one this login may not see (mailbox_not_allowed); or refused by the host or origin check'),
    },
  }),
  clearChaosRules: createRoute({
    operationId: 'clearChaosRules', method: 'delete', path: '/api/chaos', tags: ['chaos'], summary: 'Remove every rule this login may see',
    responses: { 200: json(DeletedSchema, 'How many were removed'), ...gates },
  }),
  // Before /api/chaos/{id}, which would otherwise take "refusals" for an id.
  listChaosRefusals: createRoute({
    operationId: 'listChaosRefusals', method: 'get', path: '/api/chaos/refusals', tags: ['chaos'],
    summary: 'Messages chaos refused (a reply or rate limit at rcpt, data or end of data; a drop at end of data), newest first: the last 50 per mailbox, kept in memory',
    request: { query: MailboxQuerySchema },
    responses: { 200: json(ChaosRefusalListSchema, 'The refused attempts'), ...invalid('Invalid mailbox'), ...gates },
  }),
  clearChaosRefusals: createRoute({
    operationId: 'clearChaosRefusals', method: 'delete', path: '/api/chaos/refusals', tags: ['chaos'], summary: 'Forget the refused attempts (of the given mailboxes, or of all this login may see)',
    request: { query: MailboxQuerySchema },
    responses: { 200: json(DeletedSchema, 'How many were forgotten'), ...invalid('Invalid mailbox'), ...gates },
  }),
  getChaosRule: createRoute({
    operationId: 'getChaosRule', method: 'get', path: '/api/chaos/{id}', tags: ['chaos'], summary: 'One rule, with its counters',
    request: { params: ChaosIdParamSchema },
    responses: { 200: json(ChaosRuleSchema, 'The rule'), 404: error('No such rule this login may see'), ...invalid(), ...gates },
  }),
  deleteChaosRule: createRoute({
    operationId: 'deleteChaosRule', method: 'delete', path: '/api/chaos/{id}', tags: ['chaos'], summary: 'Remove one rule',
    request: { params: ChaosIdParamSchema },
    responses: { 200: json(DeletedSchema, 'Removed'), 404: error('No such rule this login may see'), ...invalid(), ...gates },
  }),
};

/**
 * The /api/live WebSocket. The upgrade is answered outside Hono (src/app.ts, after
 * upgrade-guard.ts), so this route is only registered in the document: the 101 response carries
 * the frames' schema because that is what viewers and code generators show (an `x-` extension
 * they would ignore).
 */
export const liveRoute = createRoute({
  operationId: 'live', method: 'get', path: '/api/live', tags: ['live'],
  summary: 'Live updates over a WebSocket: one JSON frame per committed change',
  description:
    'Open with a WebSocket client (`ws://host:8025/api/live`). The server sends text frames, each one `LiveFrame`; ' +
    'only frames of the mailboxes the login may see, and with `?mailbox=` only those of the named ones (every such frame carries `mailbox`); `messages:cleared` goes to every client; ' +
    'it reads nothing from the client. A client that reconnects should refetch what it shows: frames sent while it was away are not replayed. ' +
    'A client with more than 8 MB unsent is dropped.',
  request: { query: MailboxQuerySchema },
  responses: {
    101: { description: 'Switching to the WebSocket protocol; every frame that follows is a `LiveFrame`', content: { 'application/json': { schema: LiveFrameSchema } } },
    ...invalid('Invalid mailbox (the handshake is refused)'),
    ...gates,
  },
});
