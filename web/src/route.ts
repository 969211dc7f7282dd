/** Client-side routes, relative to the base path: the inbox (`?q=`, page position) and `messages/:id`. */

export type Route =
  | { readonly name: 'inbox'; readonly query: string; readonly cursor: string | null; readonly after: string | null }
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
  return { name: 'inbox', query: params.get('q') ?? '', cursor: params.get('cursor'), after: params.get('after') };
}

export function routeHref(route: Route): string {
  const base = basePath();
  if (route.name === 'message') return `${base}messages/${encodeURIComponent(route.id)}`;
  const params = new URLSearchParams();
  if (route.query) params.set('q', route.query);
  if (route.after) params.set('after', route.after);
  else if (route.cursor) params.set('cursor', route.cursor);
  const search = params.toString();
  return search ? `${base}?${search}` : base;
}
