/**
 * Client-side routes, relative to the base path: the inbox (`?mailbox=`, `?q=`, page position) and
 * `messages/:id`. `mailbox` null is every mailbox.
 */

export type Route =
  | { readonly name: 'inbox'; readonly mailbox: string | null; readonly query: string; readonly cursor: string | null; readonly after: string | null }
  | { readonly name: 'message'; readonly id: string };

function basePath(): string {
  return new URL(document.baseURI).pathname;
}

export function parseRoute(location: Location): Route {
  const base = basePath();
  const path = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : '';
  const match = /^messages\/([^/]+)$/.exec(path);
  if (match) return { name: 'message', id: decodeURIComponent(match[1]!) };
  const params = new URLSearchParams(location.search);
  return { name: 'inbox', mailbox: params.get('mailbox') || null, query: params.get('q') ?? '', cursor: params.get('cursor'), after: params.get('after') };
}

/** The inbox of every mailbox, newest page, no search. */
export const HOME: Route = { name: 'inbox', mailbox: null, query: '', cursor: null, after: null };

export function routeHref(route: Route): string {
  const base = basePath();
  if (route.name === 'message') return `${base}messages/${encodeURIComponent(route.id)}`;
  const params = new URLSearchParams();
  if (route.mailbox) params.set('mailbox', route.mailbox);
  if (route.query) params.set('q', route.query);
  if (route.after) params.set('after', route.after);
  else if (route.cursor) params.set('cursor', route.cursor);
  const search = params.toString();
  return search ? `${base}?${search}` : base;
}
