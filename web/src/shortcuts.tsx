/** The list of keyboard shortcuts (`?`). */
import { useEffect, useRef } from 'preact/hooks';
import { useDialogFocus } from './dialog-focus.js';

const SHORTCUTS: readonly (readonly [string, string])[] = [
  ['j / ↓', 'next message'],
  ['k / ↑', 'previous message'],
  ['Home / End', 'newest / oldest message'],
  ['PageUp / PageDown', 'a screen up / down'],
  ['Enter', 'open message'],
  ['x', 'select / unselect message'],
  ['/', 'search'],
  ['Delete', 'delete (selected, or the current message)'],
  ['u', 'toggle read / unread'],
  ['Escape', 'close the message (focus back on its row); close this'],
  ['?', 'show / hide shortcuts'],
];

export function ShortcutsDialog({ onClose }: { onClose: () => void }) {
  const closeButton = useRef<HTMLButtonElement>(null);
  const dialog = useRef<HTMLDivElement>(null);
  useDialogFocus(dialog);
  useEffect(() => closeButton.current?.focus(), []);
  return (
    <div class="overlay" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" ref={dialog}>
        <h2 id="shortcuts-title">Keyboard shortcuts</h2>
        <table class="shortcuts">
          <tbody>
            {SHORTCUTS.map(([keys, what]) => (
              <tr key={keys}>
                <th scope="row"><kbd>{keys}</kbd></th>
                <td>{what}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="dialog-actions">
          <button type="button" ref={closeButton} onClick={onClose}>Close</button>
        </div>
      </div>
    </div>
  );
}
