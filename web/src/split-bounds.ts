/**
 * The bounds of the split between the message list and the open message, and how the separator's
 * keys move it: pure arithmetic (no DOM), so it is unit-tested in Node (test/unit/web-split.test.ts).
 */

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
