/**
 * The second OpenAPI document, /api/openapi-compat.json: the Mailpit- and MailHog-compatible
 * routes, tagged by the API they imitate. Their bodies are those APIs' own shapes (Mailpit's
 * swagger.json and MailHog's API documents describe them field by field), so this document names
 * each route, its parameters and its outcomes, and points there for the shapes. It is a table, not
 * generated from the routes: test/integration/openapi.test.ts checks that it lists exactly the
 * routes Kotak mounts.
 */
import type { OpenAPIHono } from '@hono/zod-openapi';

type Method = 'get' | 'put' | 'post' | 'delete';
type Api = 'mailpit' | 'mailhog';

interface CompatOperation {
  readonly method: Method;
  /** OpenAPI style: `{id}`; every such parameter is a required path string. */
  readonly path: string;
  readonly operationId: string;
  readonly apis: readonly Api[];
  readonly summary: string;
  readonly query?: Readonly<Record<string, string>>;
  /** A JSON request body, described in words. */
  readonly body?: string;
  /** The success: its status (200 unless said), type and description. */
  readonly ok: { readonly status?: number; readonly type: string; readonly description: string };
  /** The errors this route itself answers (the gates' 401/403/413/429 are added to all). */
  readonly errors?: Readonly<Record<number, string>>;
}

const JSON_TYPE = 'application/json';
const PAGING = { start: 'How many messages to skip (newest first)', limit: 'How many to return (default 50)' };
const MAILPIT_ID = 'A message ID, or `latest` for the newest message';

/** Every compatible route Kotak serves. */
export const COMPAT_OPERATIONS: readonly CompatOperation[] = [
  // MailHog (its API v1 and v2).
  { method: 'get', path: '/api/v2/messages', operationId: 'mailhogListMessages', apis: ['mailhog'], summary: 'Messages, newest first (MailHog `{ total, count, start, items }`)', query: PAGING, ok: { type: JSON_TYPE, description: 'A page of MailHog messages' } },
  { method: 'get', path: '/api/v2/search', operationId: 'mailhogSearch', apis: ['mailhog'], summary: 'Messages whose sender, recipients or text contain `query`', query: { kind: 'from, to or containing', query: 'The text to look for', ...PAGING }, ok: { type: JSON_TYPE, description: 'A page of MailHog messages' }, errors: { 400: 'Unknown kind, or no query' } },
  { method: 'delete', path: '/api/v1/messages', operationId: 'deleteMessagesV1', apis: ['mailhog', 'mailpit'], summary: 'MailHog: without a body, delete every message. Mailpit: `{ "IDs": [...] }` deletes those (without IDs, all)', body: 'Mailpit only: `{ "IDs": ["..."] }`', ok: { type: 'text/plain', description: 'Deleted (MailHog: empty body; Mailpit: `ok`)' }, errors: { 400: 'The body is not valid JSON' } },
  { method: 'get', path: '/api/v1/messages/{id}', operationId: 'mailhogGetMessage', apis: ['mailhog'], summary: 'One message in MailHog\'s shape', ok: { type: JSON_TYPE, description: 'The MailHog message' }, errors: { 404: 'No such message' } },
  { method: 'delete', path: '/api/v1/messages/{id}', operationId: 'mailhogDeleteMessage', apis: ['mailhog'], summary: 'Delete one message', ok: { type: 'text/plain', description: 'Deleted (empty body)' }, errors: { 404: 'No such message' } },
  { method: 'get', path: '/api/v1/messages/{id}/download', operationId: 'mailhogDownloadMessage', apis: ['mailhog'], summary: 'The message as received, as a download', ok: { type: 'message/rfc822', description: 'The raw message' }, errors: { 404: 'No such message' } },
  { method: 'get', path: '/api/v1/messages/{id}/mime/part/{part}/download', operationId: 'mailhogDownloadPart', apis: ['mailhog'], summary: 'A top-level MIME part (counted from 0), as a download', ok: { type: 'application/octet-stream', description: 'The part\'s decoded bytes' }, errors: { 400: 'Not a part number', 404: 'No such message or part' } },

  // Mailpit (its API v1).
  { method: 'get', path: '/api/v1/messages', operationId: 'mailpitListMessages', apis: ['mailpit'], summary: 'Message summaries, newest first (Mailpit `MessagesSummary`)', query: PAGING, ok: { type: JSON_TYPE, description: 'A page of summaries' } },
  { method: 'put', path: '/api/v1/messages', operationId: 'mailpitSetReadStatus', apis: ['mailpit'], summary: 'Mark messages read or unread: the IDs given, those matching Search, or (with neither) all', body: '`{ "IDs": [...], "Read": true, "Search": "..." }`', ok: { type: 'text/plain', description: '`ok`' }, errors: { 400: 'Invalid body or search' } },
  { method: 'get', path: '/api/v1/search', operationId: 'mailpitSearch', apis: ['mailpit'], summary: 'Message summaries matching `query` (Mailpit\'s search syntax)', query: { query: 'The search (required)', ...PAGING }, ok: { type: JSON_TYPE, description: 'A page of summaries' }, errors: { 400: 'No query, or an invalid one' } },
  { method: 'delete', path: '/api/v1/search', operationId: 'mailpitDeleteSearch', apis: ['mailpit'], summary: 'Delete the messages matching `query`', query: { query: 'The search (required)' }, ok: { type: 'text/plain', description: '`ok`' }, errors: { 400: 'No query, or an invalid one' } },
  { method: 'get', path: '/api/v1/message/{id}', operationId: 'mailpitGetMessage', apis: ['mailpit'], summary: 'One message (Mailpit `Message`); marks it read, as Mailpit does', ok: { type: JSON_TYPE, description: 'The message' }, errors: { 404: 'No such message' } },
  { method: 'get', path: '/api/v1/message/{id}/headers', operationId: 'mailpitGetHeaders', apis: ['mailpit'], summary: 'The message\'s headers, by name', ok: { type: JSON_TYPE, description: '`{ "Name": ["value", ...] }`' }, errors: { 404: 'No such message' } },
  { method: 'get', path: '/api/v1/message/{id}/raw', operationId: 'mailpitGetRaw', apis: ['mailpit'], summary: 'The message as received', ok: { type: 'text/plain', description: 'The raw message' }, errors: { 404: 'No such message' } },
  { method: 'get', path: '/api/v1/message/{id}/part/{partId}', operationId: 'mailpitGetPart', apis: ['mailpit'], summary: 'An attachment or inline part by its MIME part path', ok: { type: 'application/octet-stream', description: 'The part\'s decoded bytes' }, errors: { 404: 'No such message or part' } },
  { method: 'get', path: '/view/{file}', operationId: 'mailpitView', apis: ['mailpit'], summary: '`{id}.html`: the HTML body as the same sanitised document as /api/messages/{id}/html', ok: { type: 'text/html', description: 'The document' }, errors: { 404: 'No such message, or no HTML body' } },
  { method: 'get', path: '/api/v1/tags', operationId: 'mailpitListTags', apis: ['mailpit'], summary: 'Every tag in use', ok: { type: JSON_TYPE, description: 'Tag names' } },
  { method: 'put', path: '/api/v1/tags', operationId: 'mailpitSetTags', apis: ['mailpit'], summary: 'Replace the tags of the messages given (no Tags: clear them)', body: '`{ "IDs": [...], "Tags": [...] }`', ok: { type: 'text/plain', description: '`ok`' }, errors: { 400: 'Invalid body or tag name' } },
  { method: 'put', path: '/api/v1/tags/{tag}', operationId: 'mailpitRenameTag', apis: ['mailpit'], summary: 'Rename a tag', body: '`{ "Name": "new name" }`', ok: { type: 'text/plain', description: '`ok`' }, errors: { 400: 'Invalid name' } },
  { method: 'delete', path: '/api/v1/tags/{tag}', operationId: 'mailpitDeleteTag', apis: ['mailpit'], summary: 'Remove a tag from every message', ok: { type: 'text/plain', description: '`ok`' } },
  { method: 'get', path: '/api/v1/info', operationId: 'mailpitInfo', apis: ['mailpit'], summary: 'Version, message counts and database size (Mailpit `AppInformation`)', ok: { type: JSON_TYPE, description: 'Application information' } },
  { method: 'get', path: '/api/v1/webui', operationId: 'mailpitWebUiConfig', apis: ['mailpit'], summary: 'What Mailpit\'s own web UI reads (of the optional features, only SpamAssassin can be on: with --spamassassin)', ok: { type: JSON_TYPE, description: 'Web UI configuration' } },
  { method: 'get', path: '/api/v1/chaos', operationId: 'mailpitGetChaos', apis: ['mailpit'], summary: 'The Chaos triggers `{ Sender, Recipient, Authentication: { ErrorCode, Probability } }`, read from Kotak\'s chaos rules (reserved ids mailpit-sender, mailpit-recipient, mailpit-authentication)', ok: { type: JSON_TYPE, description: 'The triggers (0 % when off)' } },
  { method: 'put', path: '/api/v1/chaos', operationId: 'mailpitSetChaos', apis: ['mailpit'], summary: 'Set the three Chaos triggers (omitted: back to 0 %) as chaos rules at MAIL, RCPT and AUTH; the code must be one SMTP allows there', body: '`{ "Sender": { "ErrorCode": 451, "Probability": 50 } }`', ok: { type: JSON_TYPE, description: 'The triggers now' }, errors: { 400: 'A code outside 400–599 or not allowed at the stage, or a probability outside 0–100', 403: 'A scoped login (the triggers are global)' } },
  { method: 'post', path: '/api/v1/send', operationId: 'mailpitSend', apis: ['mailpit'], summary: 'Store a message built from JSON (Mailpit `SendRequest`), as if received over SMTP', body: 'Mailpit `SendRequest`: From, To, Cc, Bcc, Subject, Text, HTML, Attachments, Headers, Tags', ok: { type: JSON_TYPE, description: '`{ "ID": "..." }`' }, errors: { 400: 'Invalid request' } },
  // checks: spam
  { method: 'get', path: '/api/v1/message/{id}/sa-check', operationId: 'mailpitSpamAssassinCheck', apis: ['mailpit'], summary: 'SpamAssassin result (Mailpit `SpamAssassinResponse`: `IsSpam`, `Score`, `Rules`, `Error`), from the spamd of --spamassassin; spamd unreachable or too slow: 200 with `Error` set and `Rules` null, as Mailpit', ok: { type: JSON_TYPE, description: 'The SpamAssassin result' }, errors: { 400: 'No SpamAssassin service defined (Kotak runs without --spamassassin)', 404: 'No such message' } },
  // checks: links
  { method: 'get', path: '/api/v1/message/{id}/link-check', operationId: 'mailpitLinkCheck', apis: ['mailpit'], summary: 'Check the message\'s http(s) links and images (Mailpit `LinkCheckResponse`: `{ Errors, Links: [{ URL, StatusCode, Status }] }`); non-public addresses are refused (StatusCode 0) unless --link-check-private', query: { follow: '`true`: follow up to 5 redirects' }, ok: { type: JSON_TYPE, description: 'The links with their status' }, errors: { 404: 'No such message', 422: 'The message is too large to check' } },
  // checks: html
  { method: 'get', path: '/api/v1/message/{id}/html-check', operationId: 'mailpitHtmlCheck', apis: ['mailpit'], summary: 'HTML compatibility per email client, from caniemail.com data (Mailpit `HTMLCheckResponse`: Warnings, Platforms, Total)', ok: { type: JSON_TYPE, description: 'The check' }, errors: { 400: 'The message has no HTML (`message does not contain HTML`)', 404: 'No such message', 422: 'The HTML or its CSS is over a limit of the check' } },
];


const errorResponse = (description: string) => ({ description, content: { 'text/plain': { schema: { type: 'string' } } } });
const GATES = {
  401: errorResponse('Credentials required (Kotak runs with --http-auth or --http-token), or not accepted'),
  403: errorResponse('Refused: a browser under a Host name Kotak does not know, or a write from another page\'s origin'),
  429: errorResponse('Too many failed logins from this address; wait a minute'),
};

/** The Mailpit events WebSocket; like /api/live its upgrade is answered outside Hono, after the same gates. */
const EVENTS_OPERATION = {
  operationId: 'mailpitEvents', tags: ['mailpit'], summary: 'Mailpit\'s events WebSocket: `{ "Type": "new" | "update" | "delete" | "stats" ..., "Data": ... }` frames',
  responses: { 101: { description: 'Switching to the WebSocket protocol; every frame that follows is a Mailpit event (JSON text)' }, ...GATES },
};

function operation(op: CompatOperation): Record<string, unknown> {
  const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name, in: 'path', required: true, schema: { type: 'string' }, ...(name === 'id' && op.apis.includes('mailpit') ? { description: MAILPIT_ID } : {}),
  }));
  const queryParams = Object.entries(op.query ?? {}).map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } }));
  const parameters = [...pathParams, ...queryParams];
  const schema = op.ok.type === JSON_TYPE ? {} : { type: 'string' };
  return {
    operationId: op.operationId,
    tags: [...op.apis],
    summary: op.summary,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: false, description: op.body, content: { [JSON_TYPE]: { schema: { type: 'object' } } } } } : {}),
    responses: {
      [op.ok.status ?? 200]: { description: op.ok.description, content: { [op.ok.type]: { schema } } },
      ...Object.fromEntries(Object.entries(op.errors ?? {}).map(([status, description]) => [status, errorResponse(description)])),
      ...GATES,
      ...(op.body ? { 413: errorResponse('Request body too large') } : {}),
    },
  };
}

/** The document for a Kotak served under `basePath`. */
function compatOpenApiDocument(options: { readonly version: string; readonly basePath: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of COMPAT_OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  paths['/api/events'] = { get: EVENTS_OPERATION };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Kotak: Mailpit- and MailHog-compatible API',
      version: options.version,
      license: { name: 'MIT', url: 'https://opensource.org/license/mit' },
      description: 'The routes existing Mailpit and MailHog clients call. Response bodies are those APIs\' own shapes; errors on the Mailpit routes are plain text, as Mailpit\'s. Kotak\'s own API: /api/openapi.json.',
    },
    servers: [{ url: options.basePath.replace(/\/$/, '') || '/', description: 'This Kotak' }],
    security: [{ basicAuth: [] }, { bearerAuth: [] }, {}],
    tags: [
      { name: 'mailpit', description: 'Mailpit API v1', externalDocs: { url: 'https://mailpit.axllent.org/docs/api-v1/' } },
      { name: 'mailhog', description: 'MailHog API v1 and v2', externalDocs: { url: 'https://github.com/mailhog/MailHog/tree/master/docs/APIv2' } },
    ],
    paths,
    components: {
      securitySchemes: {
        basicAuth: { type: 'http', scheme: 'basic', description: 'A user of the --http-auth htpasswd file, or any user with a --http-token as the password' },
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'A --http-token' },
      },
    },
  };
}

/** Serves the document at /api/openapi-compat.json. */
export function mountCompatOpenApi(app: OpenAPIHono, options: { readonly version: string; readonly basePath: string }): void {
  const document = compatOpenApiDocument(options);
  app.get('/api/openapi-compat.json', (c) => c.json(document));
}
