/**
 * The search box with operator completion: an ARIA 1.2 combobox (the input) with a listbox popup.
 * ↑/↓ move through the suggestions (aria-activedescendant; focus stays in the box), Enter or Tab
 * takes one, Escape closes the list (a second Escape leaves the box), a click takes one too.
 * Enter with no suggestion chosen submits the search.
 */
import type { Ref } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { completions, type Completion, type CompletionSources } from './search-complete.js';

interface Props {
  readonly inputRef: Ref<HTMLInputElement>;
  readonly value: string;
  readonly onType: (value: string) => void;
  readonly sources: CompletionSources;
  /** The id of the element that explains a bad query, when there is one. */
  readonly errorId: string | null;
}

const LISTBOX_ID = 'search-suggestions';
const optionId = (index: number) => `search-suggestion-${index}`;

export function SearchBox({ inputRef, value, onType, sources, errorId }: Props) {
  const [suggestions, setSuggestions] = useState<readonly Completion[]>([]);
  const [active, setActive] = useState(-1);
  const own = useRef<HTMLInputElement | null>(null);
  /** Whether the user is being offered completions (even none yet), and of every operator or not. */
  const offering = useRef<{ readonly all: boolean } | null>(null);

  function suggest(text: string, caret: number, all = false) {
    offering.current = { all };
    setSuggestions(completions(text, caret, sources, { all }));
    setActive(-1);
  }

  function close() {
    offering.current = null;
    setSuggestions([]);
    setActive(-1);
  }

  // Tag and mailbox names load after the box is shown and change as mail is tagged: a name that
  // arrives while the user is typing is offered at once, not only at the next key (typing `tag:u`
  // just after tagging "urgent" offered nothing). The highlighted suggestion stays highlighted.
  useEffect(() => {
    const input = own.current;
    const offered = offering.current;
    if (!input || !offered || input.ownerDocument.activeElement !== input) return;
    const next = completions(input.value, input.selectionStart ?? input.value.length, sources, offered);
    const activeLabel = suggestions[active]?.label;
    setSuggestions(next);
    setActive(next.findIndex((suggestion) => suggestion.label === activeLabel));
  }, [sources]);

  function accept(choice: Completion) {
    onType(choice.value);
    const input = own.current;
    // The value is set by the render that follows; the caret goes after the completed word then.
    requestAnimationFrame(() => {
      input?.setSelectionRange(choice.caret, choice.caret);
      if (input) suggest(choice.value, choice.caret);
    });
    close();
  }

  function onKeyDown(event: KeyboardEvent) {
    const input = event.currentTarget as HTMLInputElement;
    const open = suggestions.length > 0;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!open) suggest(input.value, input.selectionStart ?? input.value.length, true);
        else setActive((active + 1) % suggestions.length);
        return;
      case 'ArrowUp':
        if (!open) return;
        event.preventDefault();
        setActive(active <= 0 ? suggestions.length - 1 : active - 1);
        return;
      case 'Enter':
      case 'Tab': {
        const choice = open ? suggestions[active >= 0 ? active : event.key === 'Tab' ? 0 : -1] : undefined;
        if (!choice) {
          close();
          return;
        }
        event.preventDefault();
        accept(choice);
        return;
      }
      case 'Escape':
        if (open) {
          // Only closes the list; the inbox's own Escape (leave the box) waits for a second press.
          event.preventDefault();
          event.stopPropagation();
          close();
        }
        return;
      default:
        return;
    }
  }

  const expanded = suggestions.length > 0;
  const setRefs = (element: HTMLInputElement | null) => {
    own.current = element;
    if (typeof inputRef === 'function') inputRef(element);
    else if (inputRef) inputRef.current = element;
  };

  return (
    <div class="search-box">
      <input
        ref={setRefs}
        type="search"
        name="q"
        role="combobox"
        // Preact types an ARIA combobox input as one that may name a <datalist>; ours is the listbox below.
        list={undefined}
        aria-label="Search messages"
        aria-autocomplete="list"
        aria-expanded={expanded ? 'true' : 'false'}
        aria-controls={LISTBOX_ID}
        aria-activedescendant={expanded && active >= 0 ? optionId(active) : undefined}
        aria-invalid={errorId ? 'true' : undefined}
        aria-describedby={errorId ?? undefined}
        autocomplete="off"
        spellcheck={false}
        placeholder='Search: from:alice subject:"reset" has:attachment …'
        value={value}
        onInput={(e) => {
          const input = e.currentTarget as HTMLInputElement;
          onType(input.value);
          suggest(input.value, input.selectionStart ?? input.value.length);
        }}
        onKeyDown={onKeyDown}
        onBlur={close}
      />
      <ul id={LISTBOX_ID} role="listbox" aria-label="Search suggestions" class="search-suggestions" hidden={!expanded}>
        {suggestions.map((suggestion, index) => (
          <li
            key={suggestion.label}
            id={optionId(index)}
            role="option"
            aria-selected={index === active ? 'true' : 'false'}
            class={index === active ? 'active' : undefined}
            // mousedown, not click: a click would first blur the box, which closes the list.
            onMouseDown={(e) => {
              e.preventDefault();
              accept(suggestion);
            }}
          >
            <span class="suggestion-label">{suggestion.label}</span>
            {suggestion.hint && <span class="suggestion-hint">{suggestion.hint}</span>}
          </li>
        ))}
      </ul>
    </div>
  );
}
