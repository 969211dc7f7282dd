/**
 * htmlparser2's Parser made linear in nesting depth, for every place that parses a message's HTML
 * (the sanitised view, link extraction, the HTML and link checks): hostile HTML of deeply nested or
 * stray tags must cost time in proportion to its size, not to its size times its depth.
 */
import type { Parser } from 'htmlparser2';

/**
 * htmlparser2 keeps its open-element stacks top-first in plain arrays (`unshift`, `shift`,
 * `indexOf`), so each open tag costs O(depth) and 1 MB of nested or stray tags takes tens of
 * seconds. These stand-ins keep the top at the end and know which names are open at all, which
 * makes every operation O(1) amortised. If a later htmlparser2 changes shape, parsing still works,
 * just without the speed-up.
 */
export function useLinearStacks(parser: Parser): void {
  // The fields are private in the typings; this is the one place that reaches into them.
  const internals = parser as unknown as { stack?: unknown; foreignContext?: unknown };
  if (!Array.isArray(internals.stack) || internals.stack.length !== 0 || !Array.isArray(internals.foreignContext)) return;
  internals.stack = topFirstStack<string>([]);
  internals.foreignContext = topFirstStack<boolean>(internals.foreignContext as boolean[]);
}

/** Looks like an array used top-first (index 0 = top) to its user; stored bottom-first. */
function topFirstStack<T>(initialTopFirst: readonly T[]): T[] {
  const items: T[] = [...initialTopFirst].reverse();
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  const methods = {
    shift(): T | undefined {
      if (items.length === 0) return undefined;
      const item = items.pop() as T;
      counts.set(item, (counts.get(item) ?? 1) - 1);
      return item;
    },
    unshift(item: T): number {
      items.push(item);
      counts.set(item, (counts.get(item) ?? 0) + 1);
      return items.length;
    },
    indexOf(item: T): number {
      // A hit is paid for by the pops that follow it; a miss costs nothing.
      if (!counts.get(item)) return -1;
      for (let k = items.length - 1; k >= 0; k--) if (items[k] === item) return items.length - 1 - k;
      return -1;
    },
  };
  const proxy = new Proxy({} as Record<string | symbol, unknown>, {
    get(_target, key) {
      if (key === 'length') return items.length;
      if (typeof key === 'string') {
        if (Object.hasOwn(methods, key)) return methods[key as keyof typeof methods];
        if (/^\d+$/.test(key)) return items[items.length - 1 - Number(key)];
      }
      return undefined;
    },
    set(_target, key, value) {
      if (key !== 'length' || typeof value !== 'number') return false;
      // htmlparser2 only ever empties its stacks this way.
      const removed = items.splice(0, Math.max(0, items.length - value));
      for (const item of removed) counts.set(item, (counts.get(item) ?? 1) - 1);
      return true;
    },
  });
  return proxy as unknown as T[];
}
