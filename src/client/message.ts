/**
 * A message as tests use it: every parsed field, plus helpers to read a header and fetch the raw
 * bytes or an attachment without passing the id around.
 */
import { KotakError } from './errors.js';
import type { AttachmentInfo, DeliverabilityReport, HtmlCheck, LinkCheck, MessageDetail, RawOptions, SpamCheck } from './types.js';

export interface Message extends MessageDetail {
  /** The first header with this name (case-insensitive), or undefined. All of them are in `headers`. */
  header(name: string): string | undefined;
  /** The exact bytes Kotak received. */
  raw(): Promise<Uint8Array>;
  raw(options: RawOptions & { as: 'text' }): Promise<string>;
  /** An attachment's decoded bytes, by part id, filename or Content-ID. */
  attachment(partIdOrFilename: string): Promise<Uint8Array>;
  /** The checks of `GET /api/messages/:id/checks/…`, each run by the server when called (never cached). */
  readonly checks: MessageChecks;
}

/** The checks Kotak runs on a message on request (README "Message checks"). */
export interface MessageChecks {
  // checks: html
  /** HTML compatibility per email client (caniemail.com data); `hasHtml: false` for a message without HTML. */
  html(): Promise<HtmlCheck>;
  // checks: spam
  /** Scored by SpamAssassin (a Kotak started with --spamassassin); a KotakApiError otherwise (409 spamassassin_disabled). */
  spam(): Promise<SpamCheck>;
  // checks: deliverability
  /** DKIM signatures verified over DNS, the From domain's DMARC record, one-click unsubscribe, the Gmail/Yahoo sender rules. */
  deliverability(): Promise<DeliverabilityReport>;
  // checks: links
  /** Every unique link and image URL, fetched by Kotak (HEAD, GET where refused); `follow` follows up to 5 redirects. */
  links(options?: { follow?: boolean; signal?: AbortSignal }): Promise<LinkCheck>;
}

/** What a Message needs from the client to fetch its bytes and run its checks. */
export interface MessageSource {
  raw(id: string, options?: RawOptions): Promise<Uint8Array | string>;
  part(id: string, partId: string): Promise<Uint8Array>;
  /** `GET /api/messages/:id/checks/:name` with these query parameters (undefined ones left out), its JSON answer. */
  check<T>(id: string, name: string, params?: Record<string, string | undefined>, signal?: AbortSignal): Promise<T>;
}

export function toMessage(detail: MessageDetail, source: MessageSource): Message {
  return {
    ...detail,
    header(name) {
      const wanted = name.toLowerCase();
      return detail.headers.find((h) => h.name.toLowerCase() === wanted)?.value;
    },
    raw: ((options?: RawOptions) => source.raw(detail.id, options)) as Message['raw'],
    attachment: async (which) => source.part(detail.id, findAttachment(detail, which).id),
    checks: {
      // checks: html
      html: () => source.check<HtmlCheck>(detail.id, 'html'),
      // checks: spam
      spam: () => source.check<SpamCheck>(detail.id, 'spam'),
      // checks: deliverability
      deliverability: () => source.check<DeliverabilityReport>(detail.id, 'deliverability'),
      // checks: links
      links: (options = {}) => source.check<LinkCheck>(detail.id, 'links', { follow: options.follow ? 'true' : undefined }, options.signal),
    },
  };
}

/** Part ids ("2", "1.2") come first; then filenames; then Content-IDs, with or without <>. */
export function findAttachment(detail: Pick<MessageDetail, 'id' | 'attachments'>, which: string): AttachmentInfo {
  const { attachments } = detail;
  const cid = which.replace(/^<|>$/g, '');
  const found =
    attachments.find((a) => a.id === which) ??
    attachments.find((a) => a.filename === which) ??
    attachments.find((a) => a.contentId !== null && a.contentId.replace(/^<|>$/g, '') === cid);
  if (found) return found;
  const available = attachments.map((a) => `${a.filename ?? a.contentId ?? '(unnamed)'} (part ${a.id})`).join(', ');
  throw new KotakError(`Message ${detail.id} has no attachment "${which}"; ${available ? `it has: ${available}` : 'it has none'}.`);
}
