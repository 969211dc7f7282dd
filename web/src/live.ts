/**
 * The /api/live WebSocket, kept open: reconnects with backoff after a drop, and reports every
 * (re)connection so the views resync from the API — events sent while we were away are not replayed.
 */
import type { LiveFrame } from '../../src/live/protocol.js';

// The one rule for which mailbox a frame is about, shared with the server's hub.
export { frameMailbox } from '../../src/live/protocol.js';

export type { LiveFrame };
export type LiveStatus = 'connecting' | 'live' | 'offline';

export interface LiveHandlers {
  onFrame(frame: LiveFrame): void;
  /** Called on every successful (re)connection, before any frame from it. */
  onConnected(): void;
  onStatus(status: LiveStatus): void;
}


const MIN_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

export function connectLive(handlers: LiveHandlers): () => void {
  let socket: WebSocket | null = null;
  let retryMs = MIN_RETRY_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  function open(): void {
    const url = new URL('api/live', document.baseURI);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    handlers.onStatus('connecting');
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      retryMs = MIN_RETRY_MS;
      handlers.onStatus('live');
      handlers.onConnected();
    };
    ws.onmessage = (event) => {
      try {
        handlers.onFrame(JSON.parse(String(event.data)) as LiveFrame);
      } catch {
        // A frame we cannot read is dropped; the next resync corrects any drift.
      }
    };
    ws.onclose = () => {
      if (socket !== ws || stopped) return;
      socket = null;
      handlers.onStatus('offline');
      timer = setTimeout(open, retryMs);
      retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
    };
  }

  // A laptop waking up or a tab returning should not wait out the backoff.
  const retryNow = () => {
    if (socket || stopped) return;
    clearTimeout(timer);
    open();
  };
  window.addEventListener('online', retryNow);
  document.addEventListener('visibilitychange', retryNow);

  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    window.removeEventListener('online', retryNow);
    document.removeEventListener('visibilitychange', retryNow);
    socket?.close();
  };
}
