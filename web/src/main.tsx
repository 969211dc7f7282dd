/** The web inbox: routing, the live connection, unread count in the title, and the page frame. */
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getMailboxes, type Mailbox } from './api.js';
import { showUnread } from './favicon.js';
import type { LiveFeed, Navigate } from './feed.js';
import { createCoalescer, useShortcuts } from './hooks.js';
import { Inbox } from './inbox.js';
import { connectLive, type LiveFrame, type LiveStatus } from './live.js';
import { MessageView } from './message-view.js';
import { NotificationsToggle } from './notifications.js';
import { HOME, parseRoute, routeHref, type Route } from './route.js';
import { ShortcutsDialog } from './shortcuts.js';
import { nextTheme, useTheme } from './theme.js';
import './styles.css';

const STATUS_LABEL: Record<LiveStatus, string> = { connecting: 'Connecting…', live: 'Live', offline: 'Offline, reconnecting…' };

function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(location));
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [mailboxes, setMailboxes] = useState<readonly Mailbox[] | null>(null);
  const [theme, setTheme] = useTheme();
  const [showShortcuts, setShowShortcuts] = useState(false);
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

  const navigate = useCallback<Navigate>((next, options = {}) => {
    const href = routeHref(next);
    // inApp marks entries the app pushed, so "back to inbox" can go back instead of forward.
    if (options.replace) history.replaceState(history.state, '', href);
    else history.pushState({ inApp: true }, '', href);
    setRoute(next);
    window.scrollTo(0, 0);
  }, []);

  useEffect(() => {
    const onPop = () => setRoute(parseRoute(location));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    // One request feeds the switcher's counts and the title's: the server keeps them per mailbox.
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

  // The title counts what the inbox shows: the chosen mailbox's unread, else every mailbox's.
  const shownMailbox = route.name === 'inbox' ? route.mailbox : null;
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
    <div class="app">
      <header class="topbar">
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
      <main>
        {route.name === 'message' ? (
          <MessageView key={route.id} id={route.id} list={route.list} feed={feed} navigate={navigate} />
        ) : (
          <Inbox route={route} mailboxes={mailboxes} feed={feed} navigate={navigate} />
        )}
      </main>
      {showShortcuts && <ShortcutsDialog onClose={() => setShowShortcuts(false)} />}
    </div>
  );
}

render(<App />, document.getElementById('app')!);
