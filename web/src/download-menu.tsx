/**
 * The message's Download button: an ARIA menu (WAI-ARIA APG "menu button") of the raw .eml, the
 * HTML and text bodies, and each attachment. Keyboard: Enter, Space or ↓ opens it on the first
 * item, ↑ on the last; ↑ ↓ Home End move; Escape closes it back onto the button; Tab leaves it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { partUrl, rawUrl, type MessageDetail } from './api.js';
import { attachmentName } from './attachments.js';

type Item =
  | { readonly label: string; readonly href: string; readonly filename: string }
  | { readonly label: string; readonly content: string; readonly filename: string };

/**
 * The bodies are saved from what the page already holds. As application/octet-stream, and from a
 * blob URL that exists only for the click: an HTML blob opened as a document would run with the
 * inbox's origin, so none is ever left in the page for a middle-click to open.
 */
function saveText(content: string, filename: string): void {
  const url = URL.createObjectURL(new Blob([content], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

export function DownloadMenu({ message }: { message: MessageDetail }) {
  const [open, setOpen] = useState(false);
  const [focusIndex, setFocusIndex] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);

  const items: Item[] = [
    { label: 'Message (.eml)', href: rawUrl(message.id), filename: `${message.id}.eml` },
    ...(message.html !== null ? [{ label: 'HTML body (.html)', content: message.html, filename: `${message.id}.html` }] : []),
    ...(message.text !== null ? [{ label: 'Text body (.txt)', content: message.text, filename: `${message.id}.txt` }] : []),
    ...message.attachments.map((a) => ({ label: attachmentName(a), href: partUrl(message.id, a.id), filename: attachmentName(a) })),
  ];

  useEffect(() => {
    if (!open) return;
    (menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]')[focusIndex])?.focus();
  }, [open, focusIndex]);

  useEffect(() => {
    if (!open) return;
    const outside = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener('pointerdown', outside);
    return () => document.removeEventListener('pointerdown', outside);
  }, [open]);

  function show(index: number) {
    setFocusIndex((index + items.length) % items.length);
    setOpen(true);
  }

  function close(refocus: boolean) {
    setOpen(false);
    if (refocus) button.current?.focus();
  }

  function onButtonKey(event: KeyboardEvent) {
    if (event.key === 'ArrowDown' || event.key === 'Enter' || event.key === ' ') show(0);
    else if (event.key === 'ArrowUp') show(items.length - 1);
    else return;
    event.preventDefault();
  }

  function onMenuKey(event: KeyboardEvent) {
    switch (event.key) {
      case 'ArrowDown':
        show(focusIndex + 1);
        break;
      case 'ArrowUp':
        show(focusIndex - 1);
        break;
      case 'Home':
        show(0);
        break;
      case 'End':
        show(items.length - 1);
        break;
      case 'Escape':
        close(true);
        break;
      case 'Tab':
        close(false);
        return;
      default:
        return;
    }
    // Handled here: the view's own shortcuts (Escape goes back to the inbox) skip a prevented key.
    event.preventDefault();
  }

  function activate(item: Item, event: Event) {
    if ('content' in item) {
      event.preventDefault();
      saveText(item.content, item.filename);
    }
    // After the click's own default action: a link taken out of the page follows nowhere.
    setTimeout(() => close(true), 0);
  }

  return (
    <div class="download-menu">
      <button
        ref={button}
        type="button"
        class="btn btn-secondary"
        id="download-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls="download-items"
        onClick={() => (open ? close(false) : show(0))}
        onKeyDown={onButtonKey}
      >
        Download ▾
      </button>
      {open && (
        <ul ref={menu} id="download-items" role="menu" aria-labelledby="download-button" onKeyDown={onMenuKey}>
          {items.map((item, i) => (
            <li role="none" key={`${i}-${item.filename}`}>
              {'href' in item ? (
                <a role="menuitem" tabIndex={-1} href={item.href} download={item.filename} onClick={(e) => activate(item, e)}>
                  {item.label}
                </a>
              ) : (
                <button type="button" role="menuitem" tabIndex={-1} onClick={(e) => activate(item, e)}>
                  {item.label}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
