/**
 * Keyboard focus for a modal dialog: Tab and Shift+Tab cycle through the dialog's own controls
 * (aria-modal says the rest of the page is out of reach, so the focus must not wander behind the
 * overlay), and when the dialog closes the focus goes back to where it was when it opened.
 */
import type { RefObject } from 'preact';
import { useEffect } from 'preact/hooks';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

export function useDialogFocus(dialog: RefObject<HTMLElement | null>): void {
  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const onKey = (event: KeyboardEvent) => {
      const root = dialog.current;
      if (event.key !== 'Tab' || !root) return;
      const controls = [...root.querySelectorAll<HTMLElement>(FOCUSABLE)];
      if (controls.length === 0) return;
      const first = controls[0]!;
      const last = controls[controls.length - 1]!;
      const inside = root.contains(document.activeElement);
      if (event.shiftKey && (document.activeElement === first || !inside)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
        event.preventDefault();
        first.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      // Back to the control that opened the dialog, if it is still on the page.
      if (opener?.isConnected) opener.focus();
    };
  }, [dialog]);
}
