/** Small Preact hooks shared by the views. */
import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * Runs `load` one call at a time; calls made while one runs collapse into one more run after it.
 * So the last run always starts after the last request for fresh data: nothing is missed, and a
 * burst of live events costs a few fetches, not hundreds. Runs start at least `spacingMs` apart,
 * so a tab open during a load test asks the server for a page at most a few times a second; an
 * `urgent` call (the user asked for something) skips that wait.
 */
export function createCoalescer(load: () => Promise<void>, spacingMs = 200): (urgent?: boolean) => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  let urgentPending = false;
  let lastStart = -Infinity;
  return (urgent = false) => {
    if (urgent) urgentPending = true;
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          const wait = urgentPending ? 0 : lastStart + spacingMs - performance.now();
          urgentPending = false;
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          lastStart = performance.now();
          await load();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

/** The current time, refreshed every `intervalMs`, for relative timestamps. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/**
 * Keyboard shortcuts for the current view. The handler sees keys typed outside form fields (and
 * Escape everywhere) and returns true when it used the key.
 */
export function useShortcuts(handler: (event: KeyboardEvent) => boolean): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const listener = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      if (event.key !== 'Escape' && typingInto(event.target)) return;
      if (latest.current(event)) event.preventDefault();
    };
    document.addEventListener('keydown', listener);
    return () => document.removeEventListener('keydown', listener);
  }, []);
}
