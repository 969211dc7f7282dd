/**
 * Geometry of a virtualised list of fixed-height rows: which rows are on screen, and which element
 * scrolls it. It does not assume who scrolls: the list's own box, a pane around it, or the page;
 * what is visible is the list's box cut by the viewport and by every ancestor that clips.
 */

/** The visible part of the list, in pixels from the list's top edge. */
export interface Band {
  readonly top: number;
  readonly bottom: number;
}

/** Inclusive row indices; `last < first` when there is nothing to show. */
export interface RowRange {
  readonly first: number;
  readonly last: number;
}

function clips(element: Element): boolean {
  const { overflowX, overflowY } = getComputedStyle(element);
  return overflowY !== 'visible' || overflowX !== 'visible';
}

/** The ancestors that cut the list's visible part (looked up again when the layout may change). */
export function clippingAncestors(list: Element): Element[] {
  const found: Element[] = [];
  for (let node = list.parentElement; node && node !== document.documentElement; node = node.parentElement) if (clips(node)) found.push(node);
  return found;
}

export function visibleBand(list: Element, clippers: readonly Element[]): Band {
  let top = 0;
  let bottom = window.innerHeight;
  for (const clipper of clippers) {
    const box = clipper.getBoundingClientRect();
    top = Math.max(top, box.top + clipper.clientTop);
    bottom = Math.min(bottom, box.top + clipper.clientTop + clipper.clientHeight);
  }
  const listTop = list.getBoundingClientRect().top;
  return { top: top - listTop, bottom: Math.max(top, bottom) - listTop };
}

/**
 * The rows a band shows, plus `overscan` rows either side. Not cut at the end of the list: the
 * caller cuts it at the total of the moment, so a row added at the top does not push the last
 * row shown out of the range (and out of the DOM) until the band is measured again.
 */
export function rowRange(band: Band, rowHeight: number, overscan: number): RowRange {
  if (rowHeight <= 0) return { first: 0, last: -1 };
  const first = Math.max(0, Math.floor(band.top / rowHeight) - overscan);
  const last = Math.ceil(band.bottom / rowHeight) + overscan;
  return last < first ? { first: 0, last: -1 } : { first, last };
}

/** The element that actually scrolls the list (the list's own box, a pane, or the page). */
export function scrollingElement(list: Element): Element {
  for (let node = list.parentElement; node && node !== document.documentElement; node = node.parentElement) {
    const { overflowY } = getComputedStyle(node);
    if ((overflowY === 'auto' || overflowY === 'scroll') && node.scrollHeight > node.clientHeight) return node;
  }
  return document.scrollingElement ?? document.documentElement;
}
