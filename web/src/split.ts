/**
 * The split between the message list and the open message: the list's width in pixels, moved by
 * dragging the separator or by its arrow keys, kept within bounds that leave both panes usable,
 * and remembered in localStorage across reloads.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';

const STORAGE_KEY = 'kotak.listWidth';

export const DEFAULT_LIST_WIDTH = 420;
/** Narrower than this, a row no longer shows sender, subject and time readably. */
const LIST_MIN = 280;
/** The open message keeps at least this much, so its header and tabs never collapse to nothing. */
const MESSAGE_MIN = 360;
/** One arrow key press; with Shift, four. */
export const KEY_STEP = 16;

export interface SplitBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * The list widths allowed in a space `available` pixels wide (list + separator + message). On a
 * narrow tablet both minimums cannot hold; the list then gets at most 40% and the message the rest.
 */
export function splitBounds(available: number): SplitBounds {
  const min = Math.round(Math.min(LIST_MIN, available * 0.4));
  return { min, max: Math.max(min, Math.round(available - MESSAGE_MIN)) };
}

export function clampWidth(width: number, bounds: SplitBounds): number {
  return Math.round(Math.min(bounds.max, Math.max(bounds.min, width)));
}

/** The new width after a key on the separator, or null for a key the separator does not use. */
export function widthAfterKey(key: string, shift: boolean, width: number, bounds: SplitBounds): number | null {
  const step = shift ? KEY_STEP * 4 : KEY_STEP;
  switch (key) {
    case 'ArrowLeft':
      return clampWidth(width - step, bounds);
    case 'ArrowRight':
      return clampWidth(width + step, bounds);
    case 'Home':
      return bounds.min;
    case 'End':
      return bounds.max;
    default:
      return null;
  }
}

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
