/**
 * The tab's icon: a box (Kotak is Malay for "box") with the unread count as a red badge, so a
 * pinned tab shows new mail at a glance; and the installed app's badge where the browser has one
 * (`navigator.setAppBadge`). Drawn on a canvas into a PNG data URL (the app's CSP allows
 * `img-src data:`): a raster, never an SVG, so the page holds no URL that could carry a script.
 */

const SIZE = 32;

function drawIcon(unread: number): string {
  const canvas = document.createElement('canvas');
  canvas.width = SIZE;
  canvas.height = SIZE;
  const g = canvas.getContext('2d');
  if (!g) return 'data:,';
  // The box: a rounded tray with its opening.
  g.fillStyle = '#1f6feb';
  g.beginPath();
  g.roundRect(2, 8, 24, 20, 4);
  g.fill();
  g.strokeStyle = '#ffffff';
  g.lineWidth = 2;
  g.beginPath();
  g.moveTo(2, 14);
  g.lineTo(10, 14);
  g.lineTo(12, 18);
  g.lineTo(20, 18);
  g.lineTo(22, 14);
  g.lineTo(26, 14);
  g.stroke();
  if (unread > 0) {
    const label = unread > 99 ? '99+' : String(unread);
    g.fillStyle = '#d93025';
    g.beginPath();
    g.arc(23, 9, 9, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = '#ffffff';
    g.font = `700 ${label.length > 2 ? 8 : 11}px system-ui, sans-serif`;
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(label, 23, 9.5);
  }
  return canvas.toDataURL('image/png');
}

export function showUnread(unread: number): void {
  let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.append(link);
  }
  link.type = 'image/png';
  link.href = drawIcon(unread);
  link.dataset.unread = String(unread);
  const badging = navigator as Navigator & { setAppBadge?: (count: number) => Promise<void>; clearAppBadge?: () => Promise<void> };
  // Only an installed app has a badge; elsewhere the call is missing or refused, which is fine.
  if (unread > 0) void badging.setAppBadge?.(unread).catch(() => undefined);
  else void badging.clearAppBadge?.().catch(() => undefined);
}
