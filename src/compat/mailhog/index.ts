/** MailHog's HTTP API (v1 and v2), served by Kotak (see docs/migrating.md). */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { CompatDeps } from '../deps.js';
import { mountMailhogRoutes } from './routes.js';

export function mountMailhogApi(app: OpenAPIHono, deps: CompatDeps): void {
  mountMailhogRoutes(app, deps);
}
