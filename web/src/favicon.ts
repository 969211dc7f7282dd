/**
 * The tab's icon: a box (Kotak is Malay for "box") with the unread count as a red badge, so a
 * pinned tab shows new mail at a glance; and the installed app's badge where the browser has one
 * (`navigator.setAppBadge`). Drawn as an SVG data URL, which the app's CSP allows (`img-src data:`).
 */

function iconSvg(unread: number): string {
  const label = unread > 99 ? '99+' : String(unread);
  const badge =
    unread > 0
      ? `<circle cx="23" cy="9" r="9" fill="#d93025"/><text x="23" y="13" font-family="system-ui,sans-serif" font-size="${label.length > 2 ? 8 : 11}" font-weight="700" fill="#fff" text-anchor="middle">${label}</text>`
      : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="8" width="24" height="20" rx="4" fill="#1f6feb"/><path d="M2 14h8l2 4h8l2-4h4" fill="none" stroke="#fff" stroke-width="2"/>${badge}</svg>`;
}

export function showUnread(unread: number): void {
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.append(link);
  }
  link.type = 'image/svg+xml';
  link.href = `data:image/svg+xml,${encodeURIComponent(iconSvg(unread))}`;
  link.dataset.unread = String(unread);
  const badging = navigator as Navigator & { setAppBadge?: (count: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
  // Only an installed app has a badge; elsewhere the call is missing or refused, which is fine.
  if (unread > 0) void badging.setAppBadge?.(unread).catch(() => undefined);
  else void badging.clearAppBadge?.().catch(() => undefined);
}
