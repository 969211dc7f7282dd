/** Small Preact hooks shared by the views. */
import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * Runs `load` one call at a time; calls made while one runs collapse into one more run after it.
 * So the last run always starts after the last request for fresh data: nothing is missed, and a
 * burst of live events costs two fetches, not hundreds.
 */
export function createCoalescer(load: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
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
