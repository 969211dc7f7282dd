/**
 * The page's panes and how they share the width:
 * - desktop (≥ 1024 px): sidebar, message list and open message side by side;
 * - tablet (641–1023 px): list and message side by side, the sidebar a drawer over them;
 * - phone or narrow window (≤ 640 px): the list, or the open message in its place; the sidebar a drawer.
 * The list between list and message is resizable (split.ts). Which pane shows on a phone and
 * whether the sidebar is a drawer is CSS (layout.css); the JS only needs to know whether the
 * sidebar is a drawer (focus handling) and how wide the panes are (the split's bounds).
 */
import type { ComponentChildren, RefObject } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { clampWidth, splitBounds, widthAfterKey } from './split-bounds.js';
import { useSplit } from './split.js';
import './layout.css';

/** Keep in step with layout.css. */
export const WIDE_SCREEN = '(min-width: 1024px)';
export const ONE_PANE_SCREEN = '(max-width: 640px)';

export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const list = matchMedia(query);
    const onChange = () => setMatches(list.matches);
    onChange();
    list.addEventListener('change', onChange);
    return () => list.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}

/** Width of the separator's grab area (layout.css draws it). */
const SEPARATOR_WIDTH = 8;

function useElementWidth(ref: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    setWidth(element.clientWidth);
    const observer = new ResizeObserver(() => setWidth(element.clientWidth));
    observer.observe(element);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

interface PanesProps {
  readonly list: ComponentChildren;
  readonly message: ComponentChildren;
  /** The id of the open message: a new one starts its pane at the top. */
  readonly openId: string | null;
  /** Where the list pane's scroll position belongs: a new list starts at the top. */
  readonly listKey: string;
}

/** The list pane, the separator and the message pane. */
export function Panes({ list, message, openId, listKey }: PanesProps) {
  const panes = useRef<HTMLElement>(null);
  const listPane = useRef<HTMLDivElement>(null);
  const messagePane = useRef<HTMLDivElement>(null);
  const available = useElementWidth(panes) - SEPARATOR_WIDTH;
  const split = useSplit();
  const bounds = splitBounds(Math.max(0, available));
  const width = available > 0 ? clampWidth(split.chosen, bounds) : split.chosen;
  const drag = useRef<{ pointer: number; startX: number; startWidth: number } | null>(null);

  // Panes scroll on their own: a newly opened message starts at its top, a new list (another
  // mailbox, search or page) at its top, while opening and closing messages leaves the list alone.
  useLayoutEffect(() => {
    messagePane.current?.scrollTo(0, 0);
    // On a phone the message replaces the list, whose row had the focus: the message takes it.
    if (openId !== null && matchMedia(ONE_PANE_SCREEN).matches) messagePane.current?.focus({ preventScroll: true });
  }, [openId]);
  useLayoutEffect(() => {
    listPane.current?.scrollTo(0, 0);
  }, [listKey]);

  return (
    <main ref={panes} class="panes" style={{ '--list-width': `${width}px` }}>
      <div ref={listPane} class="pane pane-list">
        {list}
      </div>
      <div
        class="separator"
        role="separator"
        tabIndex={0}
        aria-orientation="vertical"
        aria-label="Resize the message list"
        aria-controls="message-pane"
        aria-valuenow={width}
        aria-valuemin={bounds.min}
        aria-valuemax={bounds.max}
        aria-valuetext={`List ${width} pixels wide`}
        onKeyDown={(event) => {
          const next = widthAfterKey(event.key, event.shiftKey, width, bounds);
          if (next === null) return;
          event.preventDefault();
          split.choose(next);
        }}
        onPointerDown={(event) => {
          if (event.button !== 0) return;
          event.preventDefault();
          event.currentTarget.setPointerCapture(event.pointerId);
          drag.current = { pointer: event.pointerId, startX: event.clientX, startWidth: width };
        }}
        onPointerMove={(event) => {
          const start = drag.current;
          if (!start || start.pointer !== event.pointerId) return;
          split.choose(clampWidth(start.startWidth + event.clientX - start.startX, bounds));
        }}
        onPointerUp={() => (drag.current = null)}
        onPointerCancel={() => (drag.current = null)}
      />
      <div ref={messagePane} id="message-pane" class="pane pane-message" tabIndex={-1}>
        {message}
      </div>
    </main>
  );
}

/** Shown beside the list while no message is open. */
export function NoMessage() {
  return (
    <div class="no-message">
      <p>Select a message to read it here.</p>
      <p class="muted">
        <kbd>j</kbd> / <kbd>k</kbd> move through the list, <kbd>Enter</kbd> opens, <kbd>Esc</kbd> closes.
      </p>
    </div>
  );
}

interface DrawerProps {
  /** Whether the sidebar is a drawer here (narrower than desktop). */
  readonly isDrawer: boolean;
  readonly open: boolean;
  readonly onClose: (returnFocus: boolean) => void;
  readonly children: ComponentChildren;
}

/**
 * The sidebar: a column on desktop, a drawer on narrower screens. Opened, the drawer takes the
 * focus (its first link or button); Esc and a click outside close it, and the focus goes back to
 * the button that opened it (the caller's `onClose(true)`).
 */
export function SidebarFrame({ isDrawer, open, onClose, children }: DrawerProps) {
  const frame = useRef<HTMLElement>(null);
  // A layout effect, run as the drawer is drawn: a plain effect waits for the next frame, and a
  // click that closed the drawer before then had its focus taken back into the hidden drawer.
  useLayoutEffect(() => {
    if (!isDrawer || !open) return;
    // Its first link or button; else (tags and saved searches still loading, or none) the drawer
    // itself, so the focus is always in what just opened and Esc reaches its handler.
    (frame.current?.querySelector<HTMLElement>('a[href], button:not([disabled])') ?? frame.current)?.focus();
  }, [isDrawer, open]);
  return (
    <>
      <nav
        ref={frame}
        id="sidebar"
        tabIndex={-1}
        class={`sidebar${isDrawer ? ' drawer' : ''}${isDrawer && open ? ' open' : ''}`}
        aria-label="Mailboxes, tags and saved searches"
        onKeyDown={(event) => {
          if (!isDrawer || !open || event.key !== 'Escape') return;
          // Handled here, so the message behind the drawer does not close too.
          event.preventDefault();
          onClose(true);
        }}
        onFocusOut={(event) => {
          // Tabbing out of the drawer closes it, so it never hides what has the focus.
          const next = event.relatedTarget;
          if (isDrawer && open && next instanceof Node && !frame.current?.contains(next)) onClose(false);
        }}
      >
        {children}
      </nav>
      {isDrawer && open && (
        <div
          class="drawer-backdrop"
          onMouseDown={(event) => {
            // The press's default prevented, so the focus stays in the drawer until the click
            // closes it and gives the focus back. (Closing on pointerdown instead still lost the
            // focus now and then in CI: the press that followed moved it.) The backdrop stays until
            // the click, so the click cannot land on what lies under it.
            event.preventDefault();
          }}
          onClick={() => onClose(true)}
        />
      )}
    </>
  );
}
