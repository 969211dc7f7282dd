/**
 * The inbox list: one scrolling list through the whole result (every message, however many),
 * rendering only the rows on screen and fetching pages as they come into view (list-data.ts,
 * virtual-list.ts); kept current by live frames without moving what the reader looks at; search
 * with operator completion, selection, bulk actions and keyboard navigation.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, deleteMatching, deleteMessage, getTags, setRead, setReadMatching, type Mailbox, type MessageSummary } from './api.js';
import { BulkTags } from './bulk-tags.js';
import { ChaosRefusals } from './chaos-refusals.js';
import type { LiveFeed, Navigate } from './feed.js';
import { createCoalescer, useNow, useShortcuts } from './hooks.js';
import { EmptyState } from './empty-state.js';
import { ResultRows } from './list-data.js';
import { frameMailbox } from './live.js';
import { messageRoute, type Route } from './route.js';
import { SearchBox } from './search-box.js';
import { MessageRow, type RowActions } from './message-row.js';
import { awaitingValue } from './search-complete.js';
import { clippingAncestors, rowRange, scrollingElement, visibleBand, type RowRange } from './virtual-list.js';
import './list.css';

type InboxRoute = Extract<Route, { name: 'inbox' }>;

interface Props {
  readonly route: InboxRoute;
  /** GET /api/mailboxes, kept current by the App; null until its first answer. */
  readonly mailboxes: readonly Mailbox[] | null;
  readonly feed: LiveFeed;
  readonly navigate: Navigate;
  /** The message open beside the list, if any: its row is marked current. */
  readonly openId?: string | null;
}

/**
 * The message last opened from the list, and where it was. When the list is unmounted while a
 * message is open, this is how the keyboard cursor (and the scroll) come back to that row.
 */
let returnTo: { readonly id: string; readonly index: number } | null = null;

/**
 * How long typing must pause before the list follows the search box. Short enough that, with the
 * search itself, results show within 300 ms of the last key at 100,000 messages (bench/web.ts).
 */
const SEARCH_AS_YOU_TYPE_MS = 150;
/** Rows rendered beyond the visible ones, each side: a fast flick shows rows, not blanks. */
const OVERSCAN_ROWS = 8;
/** Until a row is measured (the CSS sets the real height, list.css `--list-row-height`). */
const DEFAULT_ROW_HEIGHT = 58;

const sameRange = (a: RowRange, b: RowRange) => a.first === b.first && a.last === b.last;

export function Inbox({ route, mailboxes, feed, navigate, openId = null }: Props) {
  /** Bumped by every change of the rows (the ResultRows object changes in place). */
  const [version, setVersion] = useState(0);
  const [searchError, setSearchError] = useState<string | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [cursor, setCursor] = useState(() => returnTo?.index ?? 0);
  const [range, setRange] = useState<RowRange>({ first: 0, last: -1 });
  const [rowHeight, setRowHeight] = useState(DEFAULT_ROW_HEIGHT);
  const [confirmDeleteAll, setConfirmDeleteAll] = useState(false);
  const [searchText, setSearchText] = useState(route.query);
  /** The tags in the shown mailboxes (GET /api/tags), for completion in the search and tag boxes. */
  const [tagNames, setTagNames] = useState<readonly string[]>([]);
  const searchInput = useRef<HTMLInputElement>(null);
  const listRef = useRef<HTMLUListElement>(null);
  const scrollerRef = useRef<HTMLDivElement>(null);
  const now = useNow(30_000);

  const routeRef = useRef(route);
  routeRef.current = route;
  /** The id under the keyboard cursor: when rows move (new mail, deletes), the cursor follows it. */
  const cursorId = useRef<string | null>(returnTo?.id ?? null);
  /** Scroll the cursor's row into view after the next render (set by keyboard moves). */
  const revealCursor = useRef<{ readonly index: number; readonly block: ScrollLogicalPosition } | null>(returnTo ? { index: returnTo.index, block: 'center' } : null);
  /** The first row on screen while scrolled down: rows moving under it are compensated by scrolling. */
  const anchor = useRef<{ id: string; index: number } | null>(null);
  const clippers = useRef<Element[]>([]);
  const restoring = useRef(returnTo !== null);
  /** `?after=0` (the old "Oldest" link) opens the list at its end. */
  const startAtEnd = useRef(route.after === '0');

  const rowsRef = useRef<ResultRows | null>(null);
  const refresh = useMemo(() => createCoalescer(async () => rowsRef.current?.reload()), []);
  const refreshTags = useMemo(
    () =>
      createCoalescer(async () => {
        try {
          setTagNames((await getTags(routeRef.current.mailbox)).tags.map((t) => t.name));
        } catch {
          // Completion only: the next tag frame or reconnection asks again.
        }
      }),
    [],
  );
  useEffect(() => void refreshTags(true), [route.mailbox]);

  const rows = useMemo(() => {
    const created: ResultRows = new ResultRows({
      mailbox: route.mailbox,
      query: route.query,
      onChange: () => {
        if (rowsRef.current !== created) return;
        setVersion((v) => v + 1);
        setSearchError(null);
        setLoadError(null);
      },
      onError: (err) => {
        if (rowsRef.current !== created) return;
        // A 400 is the search's fault, unless it names the mailbox (a bad name typed into the URL).
        if (err instanceof ApiError && err.status === 400 && err.code !== 'invalid_mailbox') setSearchError(err.message);
        else setLoadError(err instanceof Error ? err.message : String(err));
        setVersion((v) => v + 1);
      },
      onStale: () => void refresh(),
    });
    return created;
  }, [route.mailbox, route.query, refresh]);
  rowsRef.current = rows;

  useEffect(() => {
    // Typing leads the URL (below): keep what is typed, trailing spaces included, while it matches.
    setSearchText((typed) => (typed.trim() === route.query ? typed : route.query));
    // Only the first list shown after mounting comes back to the row opened; a list mounted all
    // along (beside the message) starts a new search or mailbox at the top.
    if (!restoring.current) {
      setCursor(0);
      cursorId.current = null;
      anchor.current = null;
      if (scrollerRef.current) scrollerRef.current.scrollTop = 0;
    }
    restoring.current = false;
    returnTo = null;
    // What was selected in another list is not on screen here: a bulk delete must not reach it.
    setSelected((current) => (current.size === 0 ? current : new Set()));
    rows.want(0, 30);
    void refresh(true);
    return () => rows.dispose();
  }, [rows, refresh]);

  // The old page links (`?cursor=`, `?after=`) still open the list: at the top, or with
  // `?after=0` at its end; the parameter then leaves the URL, which now names only the list.
  useEffect(() => {
    if (route.cursor || route.after) navigate({ ...route, cursor: null, after: null }, { replace: true });
  }, [route.cursor, route.after]);

  useEffect(
    () =>
      feed.subscribe((frame) => {
        const current = rowsRef.current;
        if (!current) return;
        if (frame === 'connected') {
          void refresh(true);
          void refreshTags();
          return;
        }
        // The App's one connection carries every mailbox (the switcher's counts need them all);
        // this list shows one, so another mailbox's frames change nothing here.
        const shown = routeRef.current.mailbox;
        const about = frameMailbox(frame);
        if (shown && about && about !== shown) return;
        switch (frame.type) {
          case 'message:stored':
            // Newer than everything: it goes on top of an unfiltered list. Whether it matches a
            // search is the server's to say (the refresh below).
            if (!routeRef.current.query) {
              current.insertNewest(frame.data);
              return;
            }
            break;
          case 'message:updated': {
            const { id, read } = frame.data;
            current.update(id, (m) => ({ ...m, read }));
            return;
          }
          case 'message:deleted': {
            const gone = frame.data.ids;
            setSelected((now) => (gone.some((id) => now.has(id)) ? new Set([...now].filter((id) => !gone.includes(id))) : now));
            // Every deleted row that was loaded is removed at once; one we had not loaded moved
            // the rows after it, so a reload places them again.
            if (current.remove(gone) && !routeRef.current.query) return;
            break;
          }
          case 'message:tagged': {
            const { id, tags } = frame.data;
            current.update(id, (m) => ({ ...m, tags }));
            void refreshTags();
            // A search may name a tag (`tag:`): whether the message still matches is the server's to say.
            if (!routeRef.current.query) return;
            break;
          }
          case 'tags:changed':
            void refreshTags();
            break;
          case 'messages:updated':
          case 'messages:cleared':
            break;
          default:
            return;
        }
        void refresh();
      }),
    [feed, refresh, refreshTags],
  );

  const total = rows.total;
  const cursorIndex = Math.min(cursor, Math.max(0, total - 1));
  const focused: MessageSummary | undefined = rows.at(cursorIndex);
  // Recomputed when rows change, not on every scroll frame (a pass over an array as long as the result).
  const loadedRows = useMemo(() => rows.loaded(), [rows, version]);
  const selectedIds = [...selected];
  const allSelected = loadedRows.length > 0 && loadedRows.every((m) => selected.has(m.id));

  /** Works out which rows are on screen, asks for them, and notes the row to anchor to. */
  function measure() {
    const list = listRef.current;
    if (!list) return;
    const band = visibleBand(list, clippers.current);
    const next = rowRange(band, rowHeight, OVERSCAN_ROWS);
    if (!sameRange(next, range)) setRange(next);
    rows.want(Math.max(0, Math.floor(band.top / rowHeight)), Math.floor(band.bottom / rowHeight));
    const firstVisible = Math.floor(Math.max(0, band.top) / rowHeight);
    const firstRow = rows.at(firstVisible);
    // At the very top new mail shows above; scrolled down, what is on screen stays put.
    anchor.current = band.top > 0 && firstRow ? { id: firstRow.id, index: firstVisible } : null;
  }
  const measureRef = useRef(measure);
  measureRef.current = measure;

  useEffect(() => {
    let frame = 0;
    const schedule = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        measureRef.current();
      });
    };
    const relayout = () => {
      if (listRef.current) clippers.current = clippingAncestors(listRef.current);
      schedule();
    };
    relayout();
    // Scroll events do not bubble, but capturing sees them all: the list's box, a pane, the page.
    document.addEventListener('scroll', schedule, { capture: true, passive: true });
    window.addEventListener('resize', relayout);
    const resized = new ResizeObserver(relayout);
    if (scrollerRef.current) resized.observe(scrollerRef.current);
    return () => {
      cancelAnimationFrame(frame);
      document.removeEventListener('scroll', schedule, { capture: true });
      window.removeEventListener('resize', relayout);
      resized.disconnect();
    };
  }, []);

  // After every render, before paint: keep the anchored row still, keep the cursor on its message,
  // reveal the cursor if it moved, learn the row height, and update which rows are on screen.
  useLayoutEffect(() => {
    const list = listRef.current;
    if (!list) return;
    const held = anchor.current;
    if (held) {
      const at = rows.at(held.index)?.id === held.id ? held.index : rows.indexOf(held.id);
      if (at >= 0 && at !== held.index) {
        scrollingElement(list).scrollTop += (at - held.index) * rowHeight;
        anchor.current = { id: held.id, index: at };
      }
    }
    if (cursorId.current !== null && rows.at(cursorIndex)?.id !== cursorId.current) {
      const at = rows.indexOf(cursorId.current);
      if (at >= 0 && at !== cursor) setCursor(at);
      else if (at < 0 && rows.at(cursorIndex)) cursorId.current = rows.at(cursorIndex)!.id;
    }
    if (startAtEnd.current && rows.answered && total > 0) {
      startAtEnd.current = false;
      moveCursor(total - 1, 'end');
    }
    const measured = list.querySelector('li')?.getBoundingClientRect().height;
    if (measured && Math.abs(measured - rowHeight) > 0.5) setRowHeight(measured);
    const reveal = revealCursor.current;
    if (reveal && rows.answered && reveal.index === cursorIndex) {
      const row = list.querySelector(`li[data-index="${reveal.index}"]`);
      if (row) {
        row.scrollIntoView({ block: reveal.block });
        revealCursor.current = null;
        // When a row has the focus (a message opened or closed beside the list), the focus moves
        // with the cursor, so Enter opens the cursor's row.
        const active = document.activeElement;
        if (active?.closest('.message-list li') && !row.contains(active)) row.querySelector<HTMLElement>('a')?.focus();
      }
    }
    measure();
  });

  const go = (change: Partial<InboxRoute>) => navigate({ ...route, ...change });
  const listContext = useMemo(() => ({ mailbox: route.mailbox, query: route.query }), [route.mailbox, route.query]);
  // One object for every row and render, so a row whose own props did not change skips its render.
  const latestActions = useRef({ toggle: (_id: string) => {}, open: (_message: MessageSummary, _index: number) => {} });
  latestActions.current = { toggle, open: (message, index) => open(message, index) };
  const rowActions = useMemo<RowActions>(
    () => ({ toggle: (id) => latestActions.current.toggle(id), open: (message, index) => latestActions.current.open(message, index) }),
    [],
  );
  const open = (message: MessageSummary, index: number) => {
    returnTo = { id: message.id, index };
    navigate(messageRoute(message.id, route));
  };

  function moveCursor(index: number, reveal: ScrollLogicalPosition = 'nearest') {
    const to = Math.max(0, Math.min(total - 1, index));
    setCursor(to);
    cursorId.current = rows.at(to)?.id ?? null;
    revealCursor.current = { index: to, block: reveal };
  }

  // The row of the message open beside the list takes the cursor when it opens, or, when the
  // rows were not loaded yet (a reload of a message's address), as soon as that row loads; once
  // only, so j/k can move the cursor on while the message stays open.
  const cursorPlacedFor = useRef<string | null>(null);
  useEffect(() => {
    if (!openId) {
      cursorPlacedFor.current = null;
      return;
    }
    if (cursorPlacedFor.current === openId) return;
    const at = rows.indexOf(openId);
    if (at < 0) return;
    cursorPlacedFor.current = openId;
    setCursor(at);
    cursorId.current = openId;
    revealCursor.current = { index: at, block: 'nearest' };
  }, [openId, version]);

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
    // `from:` alone is a search not finished yet, not one to show an error for.
    if (awaitingValue(value)) return;
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

  /** Rows a PageUp/PageDown moves: one screen, less one row of context. */
  const pageRows = () => {
    const list = listRef.current;
    if (!list) return 10;
    const band = visibleBand(list, clippers.current);
    return Math.max(1, Math.floor((band.bottom - Math.max(0, band.top)) / rowHeight) - 1);
  };

  useShortcuts((event) => {
    if (confirmDeleteAll) {
      if (event.key === 'Escape') setConfirmDeleteAll(false);
      return event.key === 'Escape';
    }
    switch (event.key) {
      case 'j':
      case 'ArrowDown':
        moveCursor(cursorIndex + 1);
        return true;
      case 'k':
      case 'ArrowUp':
        moveCursor(cursorIndex - 1);
        return true;
      case 'Home':
        moveCursor(0);
        return true;
      case 'End':
        moveCursor(total - 1);
        return true;
      case 'PageDown':
        moveCursor(cursorIndex + pageRows(), 'start');
        return true;
      case 'PageUp':
        moveCursor(cursorIndex - pageRows(), 'end');
        return true;
      case 'Enter':
        if (!focused || (event.target instanceof HTMLElement && event.target.closest('a, button'))) return false;
        open(focused, cursorIndex);
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

  const anySelected = selectedIds.length > 0;
  const scope = route.query ? 'matching' : 'all';
  const mailboxNames = useMemo(() => (mailboxes ?? []).map((m) => m.name), [mailboxes]);
  const completionSources = useMemo(() => ({ tags: tagNames, mailboxes: mailboxNames }), [tagNames, mailboxNames]);

  // The rows to render: those on screen (with overscan), and the cursor's wherever it is, so that
  // the keyboard can reveal it. In index order, which is the order the DOM (and a reader) gets.
  const indices: number[] = [];
  for (let index = range.first; index <= Math.min(range.last, total - 1); index++) indices.push(index);
  if (total > 0 && (cursorIndex < range.first || cursorIndex > range.last)) {
    if (cursorIndex < range.first) indices.unshift(cursorIndex);
    else indices.push(cursorIndex);
  }

  return (
    <section class="inbox" aria-label="Inbox">
      <form class="search" role="search" onSubmit={submitSearch}>
        <SearchBox inputRef={searchInput} value={searchText} onType={onType} sources={completionSources} errorId={searchError ? 'search-error' : null} />
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

      {/* Nothing to act on in an empty list: every control would be disabled (and on a phone the
          strip would scroll with nothing in it to reach by keyboard). */}
      {!(rows.answered && total === 0) && (
        <div class="toolbar" role="toolbar" aria-label="Message actions">
          <input
            type="checkbox"
            aria-label="Select all listed"
            checked={allSelected}
            disabled={loadedRows.length === 0}
            onChange={() => setSelected(allSelected ? new Set() : new Set(loadedRows.map((m) => m.id)))}
          />
          <button type="button" class="btn-danger" disabled={!anySelected} onClick={() => void deleteIds(selectedIds)}>Delete</button>
          <button type="button" disabled={!anySelected} onClick={() => void markIds(selectedIds, true)}>Mark read</button>
          <button type="button" disabled={!anySelected} onClick={() => void markIds(selectedIds, false)}>Mark unread</button>
          <BulkTags selectedIds={selectedIds} tagNames={tagNames} />
          {anySelected && <span class="selected-count">{selectedIds.length.toLocaleString()} selected</span>}
          <span class="spacer" />
          <button type="button" disabled={total === 0} onClick={() => void setReadMatching(route.mailbox, route.query, true).then(() => refresh(true))}>
            {route.query ? 'Mark matching read' : 'Mark all read'}
          </button>
          <button type="button" class="danger" disabled={total === 0} onClick={() => setConfirmDeleteAll(true)}>
            {route.query ? 'Delete all matching' : 'Delete all'}
          </button>
        </div>
      )}

      <ChaosRefusals mailbox={route.mailbox} feed={feed} />

      <p class="count" aria-live="polite">
        {!rows.answered && !searchError
          ? 'Loading…'
          : `${rows.totalIsLowerBound ? 'At least ' : ''}${total.toLocaleString()} ${total === 1 ? 'message' : 'messages'}${route.query ? ' match' : ''}`}
      </p>

      {rows.answered && total === 0 && !searchError && (
        <EmptyState mailbox={route.mailbox} query={route.query} onClearSearch={() => go({ query: '', cursor: null, after: null })} />
      )}

      <div class="message-scroller" ref={scrollerRef}>
        <ul class="message-list" ref={listRef} aria-label="Messages" aria-busy={!rows.answered ? 'true' : undefined} style={{ height: `${total * rowHeight}px` }}>
          {indices.map((index) => {
            const message = rows.at(index);
            if (!message) {
              return (
                <li key={`at-${index}`} data-index={index} class="placeholder" aria-setsize={total} aria-posinset={index + 1} aria-current={index === cursorIndex ? 'true' : undefined} style={{ top: `${index * rowHeight}px` }}>
                  <span class="visually-hidden">Loading message {index + 1}</span>
                </li>
              );
            }
            return (
              <MessageRow
                key={message.id}
                message={message}
                index={index}
                total={total}
                rowHeight={rowHeight}
                selected={selected.has(message.id)}
                open={message.id === openId}
                cursor={index === cursorIndex}
                current={index === cursorIndex}
                list={listContext}
                now={now}
                actions={rowActions}
              />
            );
          })}
        </ul>
      </div>

      {confirmDeleteAll && (
        <div class="overlay">
          <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title">
            <h2 id="confirm-title">
              {rows.totalIsLowerBound ? (
                // The count stopped at its bound (a search of many messages): the delete takes every match.
                <>Delete all matching messages (at least {total.toLocaleString()}){route.mailbox ? ` in ${route.mailbox}` : ''}?</>
              ) : (
                <>
                  Delete {scope === 'all' ? 'all' : 'the'} {total.toLocaleString()} {scope === 'matching' ? 'matching ' : ''}
                  {total === 1 ? 'message' : 'messages'}
                  {route.mailbox ? ` in ${route.mailbox}` : ''}?
                </>
              )}
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
