/** The turnstile that bounds how many spooled messages are read and parsed at once (parse/pool.ts). */
import { describe, expect, it } from 'vitest';
import { turnstile } from '../../src/parse/turnstile.js';

describe('turnstile', () => {
  it('lets `capacity` holders in at once and the rest in arrival order as turns are given back', async () => {
    const gate = turnstile(2);
    const entered: number[] = [];
    let inside = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const holders = Array.from({ length: 6 }, (_, i) =>
      gate.take().then(
        () =>
          new Promise<void>((done) => {
            entered.push(i);
            inside++;
            most = Math.max(most, inside);
            releases.push(() => {
              inside--;
              gate.give();
              done();
            });
          }),
      ),
    );
    // Give turns back one at a time, oldest holder first, until all six have been in.
    while (entered.length < 6 || releases.length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      releases.shift()?.();
    }
    await Promise.all(holders);
    expect(most).toBe(2);
    expect(entered).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('takes at once when a turn is free, also after turns were given back', async () => {
    const gate = turnstile(1);
    await gate.take();
    gate.give();
    let took = false;
    void gate.take().then(() => (took = true));
    await Promise.resolve();
    expect(took).toBe(true);
  });
});
