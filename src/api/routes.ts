/** Kotak's HTTP API, one route per line group: the table others build on. */
import { createRoute, z } from '@hono/zod-openapi';
import {
  BulkPatchBodySchema, DeleteQuerySchema, DeletedSchema, ErrorSchema, HtmlQuerySchema, IdParamSchema, ListQuerySchema,
  MessagePageSchema, MessageViewSchema, PartParamSchema, PatchBodySchema, StatsSchema, MessageSummarySchema, UpdatedSchema,
  WaitQuerySchema, WaitResultSchema, WaitTimeoutSchema, DeliveriesSchema, RelayJobSchema, RelayQueueQuerySchema,
  RelayQueueSchema, RelayStatusSchema, ReleaseBodySchema,
} from './schemas.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
const error = (description: string) => json(ErrorSchema, description);
const binary = (type: string, description: string) => ({ content: { [type]: { schema: z.string().openapi({ format: 'binary' }) } }, description });

export const routes = {
  listMessages: createRoute({
    method: 'get', path: '/api/messages', tags: ['messages'], summary: 'List or search messages, newest first',
    request: { query: ListQuerySchema },
    responses: { 200: json(MessagePageSchema, 'A page of summaries'), 400: error('Invalid query or cursor') },
  }),
  deleteMessages: createRoute({
    method: 'delete', path: '/api/messages', tags: ['messages'], summary: 'Delete the messages matching a query (all without one)',
    request: { query: DeleteQuerySchema },
    responses: { 200: json(DeletedSchema, 'How many were deleted'), 400: error('Invalid query') },
  }),
  // Before /api/messages/{id}, which would otherwise take "wait" for an id.
  waitForMessages: createRoute({
    method: 'get', path: '/api/messages/wait', tags: ['testing'],
    summary: 'Wait until `count` messages matching `query`, received at or after `since`, exist (already stored or arriving); oldest first',
    request: { query: WaitQuerySchema },
    responses: {
      200: json(WaitResultSchema, 'The matching messages, oldest first'),
      400: error('Invalid query, since or timeout'),
      408: json(WaitTimeoutSchema, 'Not enough matching messages in time'),
    },
  }),
  patchMessages: createRoute({
    method: 'patch', path: '/api/messages', tags: ['messages'], summary: 'Mark the messages matching a query (all without one) read or unread',
    request: { body: { content: { 'application/json': { schema: BulkPatchBodySchema } }, required: true } },
    responses: { 200: json(UpdatedSchema, 'How many changed'), 400: error('Invalid body or query') },
  }),
  getMessage: createRoute({
    method: 'get', path: '/api/messages/{id}', tags: ['messages'], summary: 'One message, parsed',
    request: { params: IdParamSchema },
    responses: { 200: json(MessageViewSchema, 'The message, with its links and likely one-time codes'), 404: error('No such message') },
  }),
  getRaw: createRoute({
    method: 'get', path: '/api/messages/{id}/raw', tags: ['messages'], summary: 'The exact bytes received',
    request: { params: IdParamSchema },
    responses: { 200: binary('message/rfc822', 'The raw message'), 404: error('No such message') },
  }),
  getHtml: createRoute({
    method: 'get', path: '/api/messages/{id}/html', tags: ['messages'],
    summary: 'The HTML body as a safe document for a sandboxed iframe: scripts and handlers removed, cid: images resolved, remote content blocked unless asked for',
    request: { params: IdParamSchema, query: HtmlQuerySchema },
    responses: { 200: { content: { 'text/html': { schema: z.string() } }, description: 'The document' }, 404: error('No such message, or it has no HTML body') },
  }),
  getPart: createRoute({
    method: 'get', path: '/api/messages/{id}/parts/{partId}', tags: ['messages'], summary: 'An attachment, decoded, as a download',
    request: { params: PartParamSchema },
    responses: {
      200: binary('application/octet-stream', 'The attachment bytes'),
      404: error('No such message or part'),
      422: error('The message was kept unparsed (over a structure limit, or the parser failed): its parts cannot be read; its raw source can'),
    },
  }),
  patchMessage: createRoute({
    method: 'patch', path: '/api/messages/{id}', tags: ['messages'], summary: 'Mark a message read or unread',
    request: { params: IdParamSchema, body: { content: { 'application/json': { schema: PatchBodySchema } }, required: true } },
    responses: { 200: json(MessageSummarySchema, 'The updated message'), 400: error('Invalid body'), 404: error('No such message') },
  }),
  deleteMessage: createRoute({
    method: 'delete', path: '/api/messages/{id}', tags: ['messages'], summary: 'Delete one message',
    request: { params: IdParamSchema },
    responses: { 200: json(DeletedSchema, 'Deleted'), 404: error('No such message') },
  }),
  releaseMessage: createRoute({
    method: 'post', path: '/api/messages/{id}/release', tags: ['relay'],
    summary: 'Deliver a message for real (to its envelope recipients, or to `to`), through the relay queue',
    request: { params: IdParamSchema, body: { content: { 'application/json': { schema: ReleaseBodySchema } }, required: false } },
    responses: {
      202: json(z.object({ jobs: z.array(RelayJobSchema) }).openapi('Released'), 'Queued'),
      403: error('A recipient is not allowed by --relay-allow (nothing was queued)'),
      404: error('No such message'),
      409: error('Relay is off'),
    },
  }),
  getDeliveries: createRoute({
    method: 'get', path: '/api/messages/{id}/deliveries', tags: ['relay'], summary: 'Relay jobs of a message, with every attempt',
    request: { params: IdParamSchema },
    responses: { 200: json(DeliveriesSchema, 'Per recipient: status, attempts, replies') },
  }),
  relayQueue: createRoute({
    method: 'get', path: '/api/relay/queue', tags: ['relay'], summary: 'Relay jobs, newest first',
    request: { query: RelayQueueQuerySchema },
    responses: { 200: json(RelayQueueSchema, 'Jobs') },
  }),
  relayStatus: createRoute({
    method: 'get', path: '/api/relay', tags: ['relay'], summary: 'Whether relay is on, and to whom',
    responses: { 200: json(RelayStatusSchema, 'Relay settings (no credentials)') },
  }),
  stats: createRoute({
    method: 'get', path: '/api/stats', tags: ['system'], summary: 'Totals',
    responses: { 200: json(StatsSchema, 'Message counts and size') },
  }),
  livez: createRoute({
    method: 'get', path: '/livez', tags: ['system'], summary: 'Liveness probe',
    responses: { 200: json(z.object({ status: z.literal('ok') }), 'Alive') },
  }),
  readyz: createRoute({
    method: 'get', path: '/readyz', tags: ['system'], summary: 'Readiness probe (checks the database)',
    responses: { 200: json(z.object({ status: z.literal('ok') }), 'Ready'), 503: error('Database unavailable') },
  }),
};
