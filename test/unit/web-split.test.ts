/** The split between list and message (web/src/split.ts): bounds, clamping and the separator's keys. */
import { describe, expect, it } from 'vitest';
import { clampWidth, KEY_STEP, splitBounds, widthAfterKey } from '../../web/src/split-bounds.js';

describe('the list/message split', () => {
  it('keeps the list readable and leaves the message room', () => {
    expect(splitBounds(1040)).toEqual({ min: 280, max: 680 });
    // Too narrow for both minimums (a small tablet): the list gets at most 40%, the message the rest.
    expect(splitBounds(500)).toEqual({ min: 200, max: 200 });
    expect(clampWidth(100, splitBounds(1040))).toBe(280);
    expect(clampWidth(5000, splitBounds(1040))).toBe(680);
    expect(clampWidth(420.4, splitBounds(1040))).toBe(420);
  });

  it('moves by arrow keys (four steps with Shift), to the bounds by Home and End, and ignores other keys', () => {
    const bounds = splitBounds(1040);
    expect(widthAfterKey('ArrowRight', false, 400, bounds)).toBe(400 + KEY_STEP);
    expect(widthAfterKey('ArrowLeft', true, 400, bounds)).toBe(400 - 4 * KEY_STEP);
    expect(widthAfterKey('ArrowLeft', false, 285, bounds)).toBe(280);
    expect(widthAfterKey('Home', false, 400, bounds)).toBe(280);
    expect(widthAfterKey('End', false, 400, bounds)).toBe(680);
    expect(widthAfterKey('Enter', false, 400, bounds)).toBeNull();
  });
});
