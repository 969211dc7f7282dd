/**
 * Optional desktop notifications for new mail: a topbar toggle. The browser's permission is asked
 * only when the toggle is clicked, never at load. While on, a message stored while the page is
 * hidden (another tab, a minimised window) shows a notification with its sender and subject; a
 * visible page shows new rows itself, so it is not interrupted. Clicking the notification focuses
 * the tab and opens the message. The choice is remembered in this browser (localStorage) and holds
 * only while the browser still grants the permission.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { MessageSummary } from './api.js';
import type { LiveFeed, Navigate } from './feed.js';
import { shortAddress } from './format.js';
import { messageRoute } from './route.js';
import './notifications.css';

const KEY = 'kotak.notifications';
/** One notification on screen at a time: each new one replaces the last, and counts what came since. */
const TAG = 'kotak-new-mail';
/** Opened from a notification, a message's "back" goes to every mailbox, unfiltered. */
const EVERY_MESSAGE = { mailbox: null, query: '' } as const;

/** off: not wanted; on: wanted and allowed; blocked: the browser refuses; unsupported: no Notification API. */
export type NotificationState = 'off' | 'on' | 'blocked' | 'unsupported';

function remembered(): boolean {
  try {
    return localStorage.getItem(KEY) === 'on';
  } catch {
    return false;
  }
}

function remember(on: boolean): void {
  try {
    if (on) localStorage.setItem(KEY, 'on');
    else localStorage.removeItem(KEY);
  } catch {
    // Storage can be off (private mode): the choice then lasts for this page only.
  }
}

/** What the toggle shows at load, from the remembered choice and the permission as it is now (never asking). */
function initialState(): NotificationState {
  if (typeof Notification === 'undefined') return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  return remembered() && Notification.permission === 'granted' ? 'on' : 'off';
}

/** The notification for the messages stored since the page was last seen; `latest` is the newest. */
function notificationText(latest: MessageSummary, count: number): { title: string; body: string } {
  const from = shortAddress(latest.from) || '(no sender)';
  const subject = latest.subject || '(no subject)';
  return count > 1 ? { title: `${count} new messages`, body: `Latest from ${from}: ${subject}` } : { title: from, body: subject };
}

const LABEL: Record<NotificationState, string> = {
  off: 'Desktop notifications: off',
  on: 'Desktop notifications: on',
  blocked: 'Desktop notifications: blocked by the browser',
  unsupported: 'Desktop notifications: not available in this browser',
};

/** Said next to the toggle after a click that could not turn it on. */
const WHY: Partial<Record<NotificationState, string>> = {
  blocked: 'Notifications are blocked for this site: allow them in the browser’s site settings.',
  unsupported: 'This browser has no desktop notifications.',
};

interface Props {
  readonly feed: LiveFeed;
  readonly navigate: Navigate;
}

export function NotificationsToggle({ feed, navigate }: Props) {
  const [state, setState] = useState<NotificationState>(initialState);
  const [note, setNote] = useState('');
  /** Messages stored since the page was last visible. */
  const unseen = useRef(0);

  useEffect(() => {
    if (state !== 'on') return undefined;
    const onVisible = () => {
      if (document.visibilityState === 'visible') unseen.current = 0;
    };
    document.addEventListener('visibilitychange', onVisible);
    const unsubscribe = feed.subscribe((frame) => {
      if (frame === 'connected' || frame.type !== 'message:stored' || document.visibilityState === 'visible') return;
      // The permission can be withdrawn in the browser's settings while the page is open.
      if (Notification.permission !== 'granted') {
        setState(Notification.permission === 'denied' ? 'blocked' : 'off');
        return;
      }
      unseen.current += 1;
      const message = frame.data;
      const { title, body } = notificationText(message, unseen.current);
      let notification: Notification;
      try {
        notification = new Notification(title, { body, tag: TAG });
      } catch {
        // Chrome on Android has the API but refuses the constructor (only a service worker may
        // notify there). This listener shares the frame with the list: it must not throw.
        setState('unsupported');
        setNote(WHY.unsupported!);
        return;
      }
      notification.onclick = () => {
        window.focus();
        navigate(messageRoute(message.id, EVERY_MESSAGE));
        notification.close();
      };
    });
    return () => {
      document.removeEventListener('visibilitychange', onVisible);
      unsubscribe();
    };
  }, [state, feed, navigate]);

  async function toggle() {
    if (state === 'on') {
      remember(false);
      setState('off');
      setNote('');
      return;
    }
    if (typeof Notification === 'undefined') {
      setNote(WHY.unsupported!);
      return;
    }
    // Asked here, on the user's click, and nowhere else.
    const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
    if (permission === 'granted') {
      remember(true);
      setState('on');
      setNote('');
    } else {
      remember(false);
      setState(permission === 'denied' ? 'blocked' : 'off');
      setNote(permission === 'denied' ? WHY.blocked! : 'Notifications were not allowed; click again to be asked again.');
    }
  }

  return (
    <span class="notify">
      <button type="button" class="icon" aria-pressed={state === 'on'} aria-label={LABEL[state]} title={LABEL[state]} onClick={() => void toggle()}>
        <svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
          <path d="M8 1.8a4 4 0 0 0-4 4v2.6L2.7 11h10.6L12 8.4V5.8a4 4 0 0 0-4-4ZM6.3 12.6a1.8 1.8 0 0 0 3.4 0" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linejoin="round" />
          {state !== 'on' && <path d="M2.5 2.5 13.5 13.5" stroke="currentColor" stroke-width="1.4" stroke-linecap="round" />}
        </svg>
      </button>
      <span class="notify-note" role="status">
        {note}
      </span>
    </span>
  );
}
