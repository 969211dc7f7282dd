/**
 * The keys of a tab list (WAI-ARIA tabs pattern): only the chosen tab is in the Tab order, so the
 * arrows, Home and End move between tabs, choosing as they go. Without them the other tabs could
 * be reached only with a mouse.
 */
export function onTablistKey<T extends string>(event: KeyboardEvent, ids: readonly T[], active: T, choose: (id: T) => void): void {
  const at = ids.indexOf(active);
  const next =
    event.key === 'ArrowRight' ? (at + 1) % ids.length
    : event.key === 'ArrowLeft' ? (at - 1 + ids.length) % ids.length
    : event.key === 'Home' ? 0
    : event.key === 'End' ? ids.length - 1
    : -1;
  if (next < 0 || event.ctrlKey || event.metaKey || event.altKey) return;
  event.preventDefault();
  choose(ids[next]!);
  // Every tab is rendered, chosen or not, in the order of `ids`: the focus can move to it now.
  (event.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('[role="tab"]')[next]?.focus();
}
