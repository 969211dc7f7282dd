/**
 * The mailbox switcher: every mailbox GET /api/mailboxes lists (so a login that will only see its
 * own mailboxes gets only those), each with its unread count, plus "All mailboxes".
 */
import type { Mailbox } from './api.js';

interface Props {
  /** null until the first answer. */
  readonly mailboxes: readonly Mailbox[] | null;
  /** The mailbox shown, null for all. */
  readonly current: string | null;
  readonly onSwitch: (mailbox: string | null) => void;
}

const unreadSuffix = (unread: number): string => (unread > 0 ? ` (${unread.toLocaleString()} unread)` : '');

export function MailboxSwitcher({ mailboxes, current, onSwitch }: Props) {
  const listed = mailboxes ?? [];
  // One mailbox (Kotak without routing) leaves nothing to switch between. A mailbox named by the
  // URL keeps the switcher, so the way back to "All mailboxes" is always on screen.
  if (listed.length < 2 && !current) return null;
  // A mailbox in the URL that the server does not list (emptied, or a typo) still shows as chosen.
  const options = current && !listed.some((m) => m.name === current) ? [...listed, { name: current, unread: 0 }] : listed;
  const allUnread = listed.reduce((sum, m) => sum + m.unread, 0);
  return (
    <label class="mailbox-switcher">
      <span>Mailbox</span>
      <select value={current ?? ''} onChange={(e) => onSwitch((e.currentTarget as HTMLSelectElement).value || null)}>
        <option value="">All mailboxes{unreadSuffix(allUnread)}</option>
        {options.map((mailbox) => (
          <option key={mailbox.name} value={mailbox.name}>
            {mailbox.name}
            {unreadSuffix(mailbox.unread)}
          </option>
        ))}
      </select>
    </label>
  );
}
