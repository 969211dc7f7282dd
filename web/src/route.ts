/**
 * Client-side routes, relative to the base path: the inbox (`?mailbox=`, `?q=`, page position) and
 * `messages/:id`, which keeps the list it was opened from (`?mailbox=`, `?q=`) so that a layout
 * showing the list beside the message, or a reload, shows the same list. `mailbox` null is every
 * mailbox.
 */

/** Which list is shown: a mailbox (null: every mailbox) and a search. */
export interface ListContext {
  readonly mailbox: string | null;
  readonly query: string;
}

export type Route =
  | ({ readonly name: 'inbox'; readonly cursor: string | null; readonly after: string | null } & ListContext)
  | { readonly name: 'message'; readonly id: string; readonly list: ListContext };

export type InboxRoute = Extract<Route, { name: 'inbox' }>;

function basePath(): string {
  return new URL(document.baseURI).pathname;
}

export function parseRoute(location: Location): Route {
  const base = basePath();
  const path = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : '';
  const match = /^messages\/([^/]+)$/.exec(path);
  const params = new URLSearchParams(location.search);
  const list: ListContext = { mailbox: params.get('mailbox') || null, query: params.get('q') ?? '' };
  if (match) return { name: 'message', id: decodeURIComponent(match[1]!), list };
  return { name: 'inbox', ...list, cursor: params.get('cursor'), after: params.get('after') };
}

/** The message `id`, opened from the list `list` (an inbox route or its context). */
export function messageRoute(id: string, list: ListContext): Route {
  return { name: 'message', id, list: { mailbox: list.mailbox, query: list.query } };
}

/** The newest page of a list. */
export function listRoute(list: ListContext): InboxRoute {
  return { name: 'inbox', mailbox: list.mailbox, query: list.query, cursor: null, after: null };
}

/** The inbox of every mailbox, newest page, no search. */
export const HOME: InboxRoute = { name: 'inbox', mailbox: null, query: '', cursor: null, after: null };

export function routeHref(route: Route): string {
  const base = basePath();
  const list = route.name === 'message' ? route.list : route;
  const params = new URLSearchParams();
  if (list.mailbox) params.set('mailbox', list.mailbox);
  if (list.query) params.set('q', list.query);
  if (route.name === 'message') {
    const search = params.toString();
    return `${base}messages/${encodeURIComponent(route.id)}${search ? `?${search}` : ''}`;
  }
  if (route.after) params.set('after', route.after);
  else if (route.cursor) params.set('cursor', route.cursor);
  const search = params.toString();
  return search ? `${base}?${search}` : base;
}

/** Whether two routes show the same list (mailbox and search), whatever else they show. */
export function sameList(a: ListContext, b: ListContext): boolean {
  return a.mailbox === b.mailbox && a.query === b.query;
}

/** Whether two inbox routes show the same list at the same page position. */
export function sameInboxRoute(a: InboxRoute, b: InboxRoute): boolean {
  return sameList(a, b) && a.cursor === b.cursor && a.after === b.after;
}
