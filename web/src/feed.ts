/** What the App hands its views: navigation and the live feed. */
import type { LiveFrame } from './live.js';
import type { Route } from './route.js';

export type Navigate = (route: Route, options?: { replace?: boolean }) => void;

/** Views subscribe to live frames and to reconnections (after which they must resync). */
export interface LiveFeed {
  subscribe(listener: (frame: LiveFrame | 'connected') => void): () => void;
}
