/** MailHog's HTTP API (v1 and v2), served by Kotak (see docs/migrating.md). */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CompatDeps } from '../deps.js';

export function mountMailhogApi(_app: OpenAPIHono, _deps: CompatDeps): void {
  // Filled in by the MailHog compatibility work.
}
