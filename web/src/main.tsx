/**
 * The web inbox: routing, the live connection, unread count in the title, and the page frame: a
 * topbar over the sidebar, the message list and the open message (layout.tsx arranges them by
 * screen width). The list stays mounted while messages open and close beside it (or, on a phone,
 * over it), so it keeps its scroll position, keyboard cursor and selection.
 */
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getMailboxes, type Mailbox } from './api.js';
import { showUnread } from './favicon.js';
import type { LiveFeed, Navigate } from './feed.js';
import { createCoalescer, useShortcuts } from './hooks.js';
import { Inbox } from './inbox.js';
import { NoMessage, Panes, SidebarFrame, useMediaQuery, WIDE_SCREEN } from './layout.js';
import { connectLive, type LiveFrame, type LiveStatus } from './live.js';
import { MessageView } from './message-view.js';
import { NotificationsToggle } from './notifications.js';
import { HOME, listRoute, parseRoute, routeHref, sameInboxRoute, sameList, type InboxRoute, type ListContext, type Route } from './route.js';
import { useSavedSearches } from './saved-searches.js';
import { Sidebar } from './sidebar.js';
import { ShortcutsDialog } from './shortcuts.js';
import { nextTheme, useTheme } from './theme.js';
import './styles.css';

const STATUS_LABEL: Record<LiveStatus, string> = { connecting: 'Connecting…', live: 'Live', offline: 'Offline, reconnecting…' };

/**
 * The list shown: the route's own on the list, the list a message was opened from beside it. The
 * same object is kept while it shows the same list and page, because the list reloads when its
 * route changes; coming back from a message (even by history, which parses a new route) is no change.
 */
function useShownList(route: Route): InboxRoute {
  const shown = useRef<InboxRoute>(route.name === 'inbox' ? route : listRoute(route.list));
  const previous = shown.current;
  if (route.name === 'inbox') {
    if (!sameInboxRoute(route, previous)) shown.current = route;
  } else if (!sameList(route.list, previous)) {
    shown.current = listRoute(route.list);
  }
  return shown.current;
}

/** Keys of the list pane's scroll position: a new list or page starts at the top. */
const listKey = (list: InboxRoute) => JSON.stringify([list.mailbox, list.query, list.cursor, list.after]);

function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(location));
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [mailboxes, setMailboxes] = useState<readonly Mailbox[] | null>(null);
  const [theme, setTheme] = useTheme();
  const [showShortcuts, setShowShortcuts] = useState(false);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const drawerButton = useRef<HTMLButtonElement>(null);
  const isWide = useMediaQuery(WIDE_SCREEN);
  const saved = useSavedSearches();
  const listeners = useRef(new Set<(frame: LiveFrame | 'connected') => void>());

  const feed = useMemo<LiveFeed>(
    () => ({
      subscribe(listener) {
        listeners.current.add(listener);
        return () => listeners.current.delete(listener);
      },
    }),
    [],
  );

  const routeNow = useRef(route);
  routeNow.current = route;
  const navigate = useCallback<Navigate>((next, options = {}) => {
    const href = routeHref(next);
    // Another message of the same list replaces the open one in history: the list is on screen
    // beside it, so Back (and Esc, which goes back) returns to the list, not through every message read.
    const current = routeNow.current;
    const switching = current.name === 'message' && next.name === 'message' && sameList(current.list, next.list);
    // inApp marks entries the app pushed, so "back to inbox" can go back instead of forward.
    if (options.replace || switching) history.replaceState(history.state, '', href);
    else history.pushState({ inApp: true }, '', href);
    routeNow.current = next;
    setRoute(next);
  }, []);

  useEffect(() => {
    const onPop = () => setRoute(parseRoute(location));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    // One request feeds the sidebar's counts and the title's: the server keeps them per mailbox.
    const refreshMailboxes = createCoalescer(async () => {
      try {
        setMailboxes((await getMailboxes()).mailboxes);
      } catch {
        // The next event or reconnection refreshes it.
      }
    });
    const publish = (frame: LiveFrame | 'connected') => {
      for (const listener of listeners.current) listener(frame);
      void refreshMailboxes();
    };
    return connectLive({ onFrame: publish, onConnected: () => publish('connected'), onStatus: setStatus });
  }, []);

  const shownList = useShownList(route);
  const openId = route.name === 'message' ? route.id : null;

  // Closing a message (Esc, its back button, the browser's back) puts the focus on its row in the
  // list, so the keyboard carries on from there; the list's cursor is already on it.
  const lastOpen = useRef<{ id: string; list: ListContext } | null>(null);
  useEffect(() => {
    const closed = lastOpen.current;
    lastOpen.current = route.name === 'message' ? { id: route.id, list: route.list } : null;
    if (!closed || route.name !== 'inbox' || !sameList(closed.list, route)) return;
    const row = document.querySelector<HTMLElement>(`.pane-list [data-id="${CSS.escape(closed.id)}"]`);
    const target = row?.querySelector<HTMLElement>('a[href]') ?? row;
    if (row && target && !row.contains(document.activeElement)) target.focus();
  }, [route]);

  useEffect(() => {
    if (isWide) setDrawerOpen(false);
  }, [isWide]);

  const closeDrawer = useCallback((returnFocus: boolean) => {
    setDrawerOpen(false);
    if (returnFocus) drawerButton.current?.focus();
  }, []);

  const pickList = useCallback(
    (list: ListContext) => {
      navigate(listRoute(list));
      if (!isWide) closeDrawer(true);
    },
    [navigate, isWide, closeDrawer],
  );

  // The title counts what the inbox shows: the chosen mailbox's unread, else every mailbox's.
  const shownMailbox = shownList.mailbox;
  const unread = (mailboxes ?? []).reduce((sum, m) => (shownMailbox === null || m.name === shownMailbox ? sum + m.unread : sum), 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Kotak` : 'Kotak';
    showUnread(unread);
  }, [unread]);

  useShortcuts((event) => {
    if (event.key === '?') {
      setShowShortcuts((shown) => !shown);
      return true;
    }
    if (event.key === 'Escape' && showShortcuts) {
      setShowShortcuts(false);
      return true;
    }
    return false;
  });

  return (
    <div class={`app ${openId ? 'message-open' : 'list-only'}`}>
      <header class="topbar">
        <button
          type="button"
          ref={drawerButton}
          class="icon drawer-toggle"
          aria-label="Mailboxes, tags and saved searches"
          title="Mailboxes, tags and saved searches"
          aria-expanded={drawerOpen}
          aria-controls="sidebar"
          onClick={() => setDrawerOpen((open) => !open)}
        >
          ☰
        </button>
        <a class="brand" href={routeHref(HOME)} onClick={(e) => { e.preventDefault(); navigate(HOME); }}>
          Kotak
        </a>
        <span class={`live live-${status}`} role="status" aria-label={`Live updates: ${STATUS_LABEL[status]}`} title={STATUS_LABEL[status]}>
          {STATUS_LABEL[status]}
        </span>
        <span class="spacer" />
        <NotificationsToggle feed={feed} navigate={navigate} />
        <button type="button" class="icon" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" onClick={() => setShowShortcuts(true)}>
          ?
        </button>
        <button type="button" class="icon" aria-label={`Theme: ${theme}`} title={`Theme: ${theme} (click to change)`} onClick={() => setTheme(nextTheme(theme))}>
          {theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}
        </button>
      </header>
      <div class="workspace">
        <SidebarFrame isDrawer={!isWide} open={drawerOpen} onClose={closeDrawer}>
          <Sidebar mailboxes={mailboxes} list={shownList} saved={saved} feed={feed} onPick={pickList} />
        </SidebarFrame>
        <Panes
          openId={openId}
          listKey={listKey(shownList)}
          list={<Inbox route={shownList} openId={openId} mailboxes={mailboxes} feed={feed} navigate={navigate} />}
          message={route.name === 'message' ? <MessageView key={route.id} id={route.id} list={route.list} feed={feed} navigate={navigate} /> : <NoMessage />}
        />
      </div>
      {showShortcuts && <ShortcutsDialog onClose={() => setShowShortcuts(false)} />}
    </div>
  );
}

render(<App />, document.getElementById('app')!);
