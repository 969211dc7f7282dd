/**
 * The inbox list: one page of the API's cursor paging at a time (never every row), kept current
 * by live frames, with search in the URL, selection, bulk actions and keyboard navigation.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  ApiError, deleteMatching, deleteMessage, listMessages, setRead, setReadMatching, type Mailbox, type MessagePage, type MessageSummary,
} from './api.js';
import type { LiveFeed, Navigate } from './feed.js';
import { absoluteTime, formatSize, relativeTime, shortAddress } from './format.js';
import { EmptyState } from './empty-state.js';
import { createCoalescer, useNow, useShortcuts } from './hooks.js';
import { frameMailbox } from './live.js';
import { messageRoute, routeHref, type Route } from './route.js';

export const PAGE_SIZE = 50;

type InboxRoute = Extract<Route, { name: 'inbox' }>;

interface Props {
  readonly route: InboxRoute;
  /** The message open beside the list (null: none): its row gets the keyboard cursor. */
  readonly openId?: string | null;
  /** GET /api/mailboxes, kept current by the App; null until its first answer. */
  readonly mailboxes: readonly Mailbox[] | null;
  readonly feed: LiveFeed;
  readonly navigate: Navigate;
}

const isNewestPage = (route: InboxRoute) => !route.cursor && !route.after;

/**
 * The message last opened from the list. The list is unmounted while a message is open, so this
 * is how the keyboard cursor comes back to that row (not to the first) when the list returns.
 */
let returnTo: string | null = null;

/** How long typing must pause before the list follows the search box. */
const SEARCH_AS_YOU_TYPE_MS = 300;

export function Inbox({ route, openId = null, mailboxes, feed, navigate }: Props) {
  const [page, setPage] = useState<MessagePage | null>(null);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [focus, setFocus] = useState(0);
  const [confirmDeleteAll, setConfirmDeleteAll] = useState(false);
  const [searchText, setSearchText] = useState(route.query);
  const searchInput = useRef<HTMLInputElement>(null);
  const now = useNow(30_000);

  const routeRef = useRef(route);
  routeRef.current = route;

  const refresh = useMemo(
    () =>
      createCoalescer(async () => {
        const wanted = routeRef.current;
        try {
          const next = await listMessages(wanted.mailbox, wanted.query, wanted, PAGE_SIZE);
          // The route moved on while we waited: that route's own load shows its page.
          if (routeRef.current !== wanted) return;
          if (next.messages.length === 0 && !isNewestPage(wanted)) {
            // Everything on this page went away (deleted elsewhere): fall back to the newest page.
            navigate({ ...wanted, cursor: null, after: null }, { replace: true });
            return;
          }
          setPage(next);
          if (returnTo !== null) {
            const back = next.messages.findIndex((m) => m.id === returnTo);
            if (back >= 0) setFocus(back);
            returnTo = null;
          }
          setSearchError(null);
          setLoadError(null);
          setSelected((current) => {
            const visible = new Set(next.messages.map((m) => m.id));
            const kept = [...current].filter((id) => visible.has(id));
            return kept.length === current.size ? current : new Set(kept);
          });
        } catch (err) {
          if (routeRef.current !== wanted) return;
          // A 400 is the search's fault, unless it names the mailbox (a bad name typed into the URL).
          if (err instanceof ApiError && err.status === 400 && err.code !== 'invalid_mailbox') {
            setSearchError(err.message);
            setPage({ total: 0, messages: [], nextCursor: null, prevCursor: null });
          } else setLoadError(err instanceof Error ? err.message : String(err));
        }
      }),
    [navigate],
  );

  useEffect(() => {
    // Typing leads the URL (below): keep what is typed, trailing spaces included, while it matches.
    setSearchText((typed) => (typed.trim() === route.query ? typed : route.query));
    setFocus(0);
    void refresh(true);
  }, [route.mailbox, route.query, route.cursor, route.after, refresh]);

  useEffect(
    () =>
      feed.subscribe((frame) => {
        if (frame === 'connected') {
          void refresh(true);
          return;
        }
        // The App's one connection carries every mailbox (the switcher's counts need them all);
        // this list shows one, so another mailbox's frames change nothing here.
        const shown = routeRef.current.mailbox;
        const about = frameMailbox(frame);
        if (shown && about && about !== shown) return;
        switch (frame.type) {
          case 'message:stored': {
            const current = routeRef.current;
            // On the newest page of an unfiltered inbox the row can show at once; the refresh
            // that follows fixes the total and the paging cursors.
            if (isNewestPage(current) && !current.query) {
              const stored = frame.data;
              setPage((p) => (p && !p.messages.some((m) => m.id === stored.id) ? { ...p, total: p.total + 1, messages: [stored, ...p.messages].slice(0, PAGE_SIZE) } : p));
            }
            break;
          }
          case 'message:updated': {
            const { id, read } = frame.data;
            setPage((p) => p && { ...p, messages: p.messages.map((m) => (m.id === id ? { ...m, read } : m)) });
            return;
          }
          case 'message:deleted': {
            const gone = new Set(frame.data.ids);
            setPage((p) => p && { ...p, messages: p.messages.filter((m) => !gone.has(m.id)) });
            break;
          }
          case 'messages:updated':
          case 'messages:cleared':
            break;
        }
        void refresh();
      }),
    [feed, refresh],
  );

  const messages = page?.messages ?? [];

  const focusIndex = Math.min(focus, Math.max(0, messages.length - 1));
  const focused: MessageSummary | undefined = messages[focusIndex];

  // The cursor is an index into the rows, so rows arriving above it (new mail) or leaving would
  // move it to another message: when the rows change, it follows its message to its new index.
  const cursorAnchor = useRef<{ rows: readonly MessageSummary[]; id: string | null }>({ rows: messages, id: null });
  useEffect(() => {
    const anchor = cursorAnchor.current;
    if (anchor.rows !== messages) {
      anchor.rows = messages;
      const at = anchor.id === null ? -1 : messages.findIndex((m) => m.id === anchor.id);
      if (at >= 0 && at !== focusIndex) {
        setFocus(at);
        return;
      }
    }
    anchor.id = messages[focusIndex]?.id ?? null;
  });

  // The cursor goes to a message when it opens (by click, key or URL), once its row is listed.
  const cursorOn = useRef<string | null>(null);
  useEffect(() => {
    if (openId === null) cursorOn.current = null;
    if (openId === null || cursorOn.current === openId) return;
    const index = messages.findIndex((m) => m.id === openId);
    if (index < 0) return;
    cursorOn.current = openId;
    setFocus(index);
  }, [openId, messages]);

  const selectedIds = messages.filter((m) => selected.has(m.id)).map((m) => m.id);
  const allSelected = messages.length > 0 && selectedIds.length === messages.length;

  const go = (change: Partial<InboxRoute>) => navigate({ ...route, ...change });
  const open = (message: MessageSummary) => {
    returnTo = message.id;
    navigate(messageRoute(message.id, route));
  };

  function toggle(id: string) {
    setSelected((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  async function deleteIds(ids: readonly string[]) {
    // Deletes arrive back as live frames, which remove the rows in every open tab, this one included.
    await Promise.allSettled(ids.map((id) => deleteMessage(id)));
    setSelected(new Set());
    void refresh(true);
  }

  async function markIds(ids: readonly string[], read: boolean) {
    await Promise.allSettled(ids.map((id) => setRead(id, read)));
    void refresh(true);
  }

  async function runDeleteAll() {
    setConfirmDeleteAll(false);
    try {
      await deleteMatching(route.mailbox, route.query);
    } finally {
      setSelected(new Set());
      navigate({ ...route, cursor: null, after: null }, { replace: true });
      void refresh(true);
    }
  }

  // The list follows the search box as you type, once typing pauses; the URL is replaced, not
  // pushed, so Back does not step through every keystroke. Enter searches at once.
  const typing = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(typing.current), []);

  function onType(value: string) {
    setSearchText(value);
    clearTimeout(typing.current);
    typing.current = setTimeout(() => {
      const current = routeRef.current;
      if (value.trim() !== current.query) navigate({ ...current, query: value.trim(), cursor: null, after: null }, { replace: true });
    }, SEARCH_AS_YOU_TYPE_MS);
  }

  function submitSearch(event: Event) {
    event.preventDefault();
    clearTimeout(typing.current);
    if (searchText.trim() !== route.query) go({ query: searchText.trim(), cursor: null, after: null });
  }

  useShortcuts((event) => {
    if (confirmDeleteAll) {
      if (event.key === 'Escape') setConfirmDeleteAll(false);
      return event.key === 'Escape';
    }
    switch (event.key) {
      case 'j':
      case 'ArrowDown':
        setFocus(Math.min(messages.length - 1, focusIndex + 1));
        return true;
      case 'k':
      case 'ArrowUp':
        setFocus(Math.max(0, focusIndex - 1));
        return true;
      case 'Enter':
        if (!focused || (event.target instanceof HTMLElement && event.target.closest('a, button'))) return false;
        open(focused);
        return true;
      case 'x':
        if (focused) toggle(focused.id);
        return Boolean(focused);
      case '/':
        searchInput.current?.focus();
        searchInput.current?.select();
        return true;
      case 'Delete':
        if (selectedIds.length > 0) void deleteIds(selectedIds);
        else if (focused) void deleteIds([focused.id]);
        return true;
      case 'u':
        if (focused) void markIds([focused.id], !focused.read);
        return Boolean(focused);
      case 'Escape':
        if (event.target === searchInput.current) {
          searchInput.current?.blur();
          return true;
        }
        return false;
      default:
        return false;
    }
  });

  // Keep the keyboard cursor in view as it moves. When a row has the focus (a message was opened
  // or closed beside the list), the focus moves with the cursor, so Enter opens the cursor's row.
  useEffect(() => {
    const cursor = document.querySelector('.message-list li[aria-current="true"]');
    cursor?.scrollIntoView({ block: 'nearest' });
    if (cursor && document.activeElement?.closest('.message-list li') && !cursor.contains(document.activeElement)) cursor.querySelector<HTMLElement>('a')?.focus();
  }, [focusIndex]);

  const anySelected = selectedIds.length > 0;
  const scope = route.query ? 'matching' : 'all';

  return (
    <section class="inbox" aria-label="Inbox">
      <form class="search" role="search" onSubmit={submitSearch}>
        <input
          ref={searchInput}
          type="search"
          name="q"
          aria-label="Search messages"
          placeholder='Search: from:alice subject:"reset" has:attachment …'
          value={searchText}
          onInput={(e) => onType((e.target as HTMLInputElement).value)}
          aria-invalid={searchError ? 'true' : undefined}
          aria-describedby={searchError ? 'search-error' : undefined}
        />
        <button type="submit">Search</button>
        {route.query && (
          <button type="button" onClick={() => go({ query: '', cursor: null, after: null })}>Clear</button>
        )}
      </form>
      {searchError && (
        <p id="search-error" class="error" role="alert">
          Invalid search: {searchError}
        </p>
      )}
      {loadError && (
        <p class="error" role="alert">
          Could not load messages: {loadError}
        </p>
      )}

      <div class="toolbar" role="toolbar" aria-label="Message actions">
        <input
          type="checkbox"
          aria-label="Select all on this page"
          checked={allSelected}
          disabled={messages.length === 0}
          onChange={() => setSelected(allSelected ? new Set() : new Set(messages.map((m) => m.id)))}
        />
        <button type="button" class="btn-danger" disabled={!anySelected} onClick={() => void deleteIds(selectedIds)}>Delete</button>
        <button type="button" disabled={!anySelected} onClick={() => void markIds(selectedIds, true)}>Mark read</button>
        <button type="button" disabled={!anySelected} onClick={() => void markIds(selectedIds, false)}>Mark unread</button>
        <span class="spacer" />
        <button type="button" disabled={!page || page.total === 0} onClick={() => void setReadMatching(route.mailbox, route.query, true).then(() => refresh(true))}>
          {route.query ? 'Mark matching read' : 'Mark all read'}
        </button>
        <button type="button" class="danger" disabled={!page || page.total === 0} onClick={() => setConfirmDeleteAll(true)}>
          {route.query ? 'Delete all matching' : 'Delete all'}
        </button>
      </div>

      <p class="count" aria-live="polite">
        {page === null ? 'Loading…' : `${page.total.toLocaleString()} ${page.total === 1 ? 'message' : 'messages'}${route.query ? ' match' : ''}`}
      </p>

      {page !== null && messages.length === 0 && !searchError && (
        <EmptyState mailbox={route.mailbox} query={route.query} onClearSearch={() => go({ query: '', cursor: null, after: null })} />
      )}

      <ul class="message-list" aria-label="Messages">
        {messages.map((message, index) => (
          <li
            key={message.id}
            data-id={message.id}
            class={`${message.read ? 'read' : 'unread'}${selected.has(message.id) ? ' selected' : ''}${message.id === openId ? ' open' : ''}`}
            aria-current={index === focusIndex ? 'true' : undefined}
          >
            <input
              type="checkbox"
              aria-label={`Select message: ${message.subject || '(no subject)'}`}
              checked={selected.has(message.id)}
              onChange={() => toggle(message.id)}
            />
            <a
              class="row"
              href={routeHref(messageRoute(message.id, route))}
              onClick={(e) => {
                if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
                e.preventDefault();
                open(message);
              }}
            >
              <span class="from">{shortAddress(message.from)}</span>
              <span class="subject">
                {!message.read && <span class="visually-hidden">Unread: </span>}
                {message.subject || '(no subject)'}
              </span>
              <span class="snippet">{message.snippet}</span>
              <span class="meta">
                {message.hasAttachments && (
                  <svg class="attachment-marker" viewBox="0 0 16 16" width="14" height="14" role="img" aria-label="Has attachments">
                    <title>Has attachments</title>
                    <path d="M10.5 3.5 5 9a1.8 1.8 0 0 0 2.5 2.5l6-6a3.2 3.2 0 0 0-4.5-4.5l-6 6a4.6 4.6 0 0 0 6.5 6.5L14 8" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round" />
                  </svg>
                )}
                <span class="size">{formatSize(message.size)}</span>
                <time dateTime={message.receivedAt} title={absoluteTime(message.receivedAt)}>
                  {relativeTime(message.receivedAt, now)}
                </time>
              </span>
            </a>
          </li>
        ))}
      </ul>

      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={!page?.prevCursor} onClick={() => go({ cursor: null, after: null })}>Newest</button>
        <button type="button" disabled={!page?.prevCursor} onClick={() => go({ cursor: null, after: page!.prevCursor })}>Newer</button>
        <button type="button" disabled={!page?.nextCursor} onClick={() => go({ cursor: page!.nextCursor, after: null })}>Older</button>
        <button type="button" disabled={!page?.nextCursor} onClick={() => go({ cursor: null, after: '0' })}>Oldest</button>
      </nav>

      {confirmDeleteAll && page && (
        <div class="overlay">
          <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title">
            <h2 id="confirm-title">
              Delete {scope === 'all' ? 'all' : 'the'} {page.total.toLocaleString()} {scope === 'matching' ? 'matching ' : ''}
              {page.total === 1 ? 'message' : 'messages'}
              {route.mailbox ? ` in ${route.mailbox}` : ''}?
            </h2>
            <p>This cannot be undone.</p>
            <div class="dialog-actions">
              <button type="button" onClick={() => setConfirmDeleteAll(false)}>Cancel</button>
              <button type="button" class="danger" autoFocus onClick={() => void runDeleteAll()}>Delete</button>
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
