/**
 * Mailpit's link check, `GET /api/v1/message/{ID}/link-check?follow=true`, in Mailpit's shape
 * (`{ Errors, Links: [{ URL, StatusCode, Status }] }`, what `mailpit-api`'s `linkCheck()` reads),
 * answered by Kotak's own check (src/checks/links/).
 */
import type { Hono } from 'hono';
import { KotakError } from '../../errors.js';
import { accessScope } from '../../api/access.js';
import type { LinkCheckReport, LinkResult } from '../../checks/links/types.js';
import type { CompatDeps } from '../deps.js';
import { PAGE_NOT_FOUND, resolveId } from './http.js';

export interface MailpitLinkCheck {
  readonly Errors: number;
  readonly Links: readonly { readonly URL: string; readonly StatusCode: number; readonly Status: string }[];
}

/** As Mailpit: an HTTP answer is its status and text; anything else is status 0 with what went wrong. */
function mailpitLink(link: LinkResult): MailpitLinkCheck['Links'][number] {
  const answered = (link.outcome === 'ok' || link.outcome === 'broken') && link.status !== null;
  return answered ? { URL: link.url, StatusCode: link.status!, Status: link.statusText } : { URL: link.url, StatusCode: 0, Status: link.reason ?? link.statusText };
}

export function toMailpitLinkCheck(report: LinkCheckReport): MailpitLinkCheck {
  // Mailpit lists only http(s) links: the others are not checked at all.
  const links = report.links.filter((link) => link.outcome !== 'not-checked').map(mailpitLink);
  return { Errors: links.filter((l) => l.StatusCode === 0 || l.StatusCode >= 400).length, Links: links };
}

export function mountMailpitLinksCheck(app: Hono, deps: CompatDeps): void {
  app.get('/api/v1/message/:id/link-check', async (c) => {
    const message = await deps.store.get(accessScope(c), await resolveId(deps.store, c.req.param('id'), c));
    if (!message) throw new KotakError('not_found', PAGE_NOT_FOUND);
    const follow = ['true', '1'].includes(c.req.query('follow') ?? '');
    return c.json(toMailpitLinkCheck(await deps.linkChecker.check(message, { follow, signal: c.req.raw.signal })));
  });
}
