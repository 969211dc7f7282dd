/** The web inbox: routing, the live connection, unread count in the title, and the page frame. */
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getStats } from './api.js';
import type { LiveFeed, Navigate } from './feed.js';
import { createCoalescer, useShortcuts } from './hooks.js';
import { Inbox } from './inbox.js';
import { connectLive, type LiveFrame, type LiveStatus } from './live.js';
import { MessageView } from './message-view.js';
import { parseRoute, routeHref, type Route } from './route.js';
import { ShortcutsDialog } from './shortcuts.js';
import { applyTheme, loadTheme, nextTheme, type ThemeChoice } from './theme.js';
import './styles.css';

const STATUS_LABEL: Record<LiveStatus, string> = { connecting: 'Connecting…', live: 'Live', offline: 'Offline, reconnecting…' };

function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(location));
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const [unread, setUnread] = useState(0);
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme);
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

  useEffect(() => applyTheme(theme), [theme]);

  useEffect(() => {
    const refreshStats = createCoalescer(async () => {
      try {
        setUnread((await getStats()).unread);
      } catch {
        // The next event or reconnection refreshes it.
      }
    });
    const publish = (frame: LiveFrame | 'connected') => {
      for (const listener of listeners.current) listener(frame);
      void refreshStats();
    };
    return connectLive({ onFrame: publish, onConnected: () => publish('connected'), onStatus: setStatus });
  }, []);

  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Kotak` : 'Kotak';
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
        <a class="brand" href={routeHref({ name: 'inbox', query: '', cursor: null, after: null })} onClick={(e) => { e.preventDefault(); navigate({ name: 'inbox', query: '', cursor: null, after: null }); }}>
          Kotak
        </a>
        <span class={`live live-${status}`} role="status" aria-label={`Live updates: ${STATUS_LABEL[status]}`} title={STATUS_LABEL[status]}>
          {STATUS_LABEL[status]}
        </span>
        <span class="spacer" />
        <button type="button" class="icon" aria-label="Keyboard shortcuts" title="Keyboard shortcuts (?)" onClick={() => setShowShortcuts(true)}>
          ?
        </button>
        <button type="button" class="icon" aria-label={`Theme: ${theme}`} title={`Theme: ${theme} (click to change)`} onClick={() => setTheme(nextTheme(theme))}>
          {theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}
        </button>
      </header>
      <main>
        {route.name === 'message' ? (
          <MessageView key={route.id} id={route.id} feed={feed} navigate={navigate} />
        ) : (
          <Inbox route={route} feed={feed} navigate={navigate} />
        )}
      </main>
      {showShortcuts && <ShortcutsDialog onClose={() => setShowShortcuts(false)} />}
    </div>
  );
}

render(<App />, document.getElementById('app')!);
