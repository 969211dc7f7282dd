/**
 * The split between the message list and the open message: the list's width in pixels, moved by
 * dragging the separator or by its arrow keys, kept within bounds that leave both panes usable,
 * and remembered in localStorage across reloads.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';

const STORAGE_KEY = 'kotak.listWidth';

export const DEFAULT_LIST_WIDTH = 420;

function loadWidth(): number {
  try {
    const stored = Number(localStorage.getItem(STORAGE_KEY));
    return Number.isFinite(stored) && stored > 0 ? stored : DEFAULT_LIST_WIDTH;
  } catch {
    return DEFAULT_LIST_WIDTH; // Storage refused (privacy mode): the default, not remembered.
  }
}

function saveWidth(width: number): void {
  try {
    localStorage.setItem(STORAGE_KEY, String(width));
  } catch {
    // Not remembered; the split still works for this page.
  }
}

export interface Split {
  /** The list's width as chosen (remembered), before the bounds of the space it is shown in. */
  readonly chosen: number;
  /** Sets and remembers the chosen width. */
  readonly choose: (width: number) => void;
}

/** The chosen list width, remembered; callers clamp it to the space they have (`splitBounds`). */
export function useSplit(): Split {
  const [chosen, setChosen] = useState(loadWidth);
  const choose = useCallback((width: number) => {
    setChosen(width);
    saveWidth(width);
  }, []);
  // Another tab's choice applies here too, so two tabs do not fight over the stored value.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === STORAGE_KEY) setChosen(loadWidth());
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);
  return { chosen, choose };
}
