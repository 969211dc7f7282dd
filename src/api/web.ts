/**
 * Serves the built web inbox (web/dist): hashed assets cached forever, the index never cached, and
 * the index for every client-side route so deep links (/messages/:id) work after a reload.
 */
import { readFile } from 'node:fs/promises';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { appPolicy, newNonce } from './security.js';

const ASSET_TYPES: Readonly<Record<string, string>> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
};

/** Built asset names are ours: a name, a content hash, an extension. Anything else is not a file we serve. */
const ASSET_NAME = /^[\w-]+(?:\.[a-z0-9]+)*\.([a-z0-9]+)$/;

/**
 * Where scripts/build-web.js leaves room for the nonce in the index's <script> and <link> tags;
 * each response gets its own, and only those tags run under the app's CSP.
 */
const NONCE_PLACEHOLDER = '%KOTAK_NONCE%';

/** Client-side routes of the inbox (see web/src/route.ts). */
export const APP_ROUTES = ['/', '/messages/:id'] as const;

export interface WebDeps {
  /** web/dist/ */
  readonly distDir: URL;
  /** The public path the inbox is served under, with slashes at both ends, e.g. '/' or '/mail/'. */
  readonly basePath: string;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function mountWeb(app: OpenAPIHono, deps: WebDeps): void {
  let index: Promise<string> | null = null;
  const loadIndex = () =>
    (index ??= readFile(new URL('index.html', deps.distDir), 'utf8').then(
      // The <base> makes every relative URL in the app (assets, API, WebSocket) follow the base path.
      (html) => html.replace('<head>', `<head><base href="${escapeAttribute(deps.basePath)}">`),
      (err: unknown) => {
        index = null;
        throw err;
      },
    ));

  for (const route of APP_ROUTES) {
    app.get(route, async (c) => {
      let html: string;
      try {
        html = await loadIndex();
      } catch {
        return c.text('The web inbox is not built. Run `npm run build` (the API works without it).', 503);
      }
      const nonce = newNonce();
      c.header('Cache-Control', 'no-cache');
      c.header('Content-Security-Policy', appPolicy(nonce));
      return c.html(html.replaceAll(NONCE_PLACEHOLDER, nonce));
    });
  }

  app.get('/assets/:name', async (c) => {
    const name = c.req.param('name');
    const match = ASSET_NAME.exec(name);
    const type = match ? ASSET_TYPES[match[1]!] : undefined;
    if (!type) return c.notFound();
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = new Uint8Array(await readFile(new URL(`assets/${name}`, deps.distDir)));
    } catch {
      return c.notFound();
    }
    return c.body(body, 200, {
      'Content-Type': type,
      // Names carry a content hash, so a changed file is a new URL.
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
  });
}
