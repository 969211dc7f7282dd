/**
 * One row of the message list. A class with shouldComponentUpdate, so that while the list scrolls
 * only the rows entering the view render; the rows already on screen keep their DOM untouched.
 */
import { Component } from 'preact';
import type { MessageSummary } from './api.js';
import { absoluteTime, formatSize, relativeTime, shortAddress } from './format.js';
import { messageRoute, routeHref, type ListContext } from './route.js';
import { TagChip } from './tags.js';

/** What a row can ask of the list; one object for every row, so it never differs between renders. */
export interface RowActions {
  toggle(id: string): void;
  open(message: MessageSummary, index: number): void;
}

interface Props {
  readonly message: MessageSummary;
  readonly index: number;
  readonly total: number;
  readonly rowHeight: number;
  readonly selected: boolean;
  /** The message shown beside the list. */
  readonly open: boolean;
  /** Under the keyboard cursor. */
  readonly cursor: boolean;
  /**
   * Marked aria-current: the keyboard cursor's row. It moves to a message when it opens, and j/k
   * move it on without opening, so the open row (class `open`) may differ from it.
   */
  readonly current: boolean;
  readonly list: ListContext;
  readonly now: number;
  readonly actions: RowActions;
}

export class MessageRow extends Component<Props> {
  override shouldComponentUpdate(next: Props): boolean {
    const props = this.props;
    return (Object.keys(next) as (keyof Props)[]).some((key) => next[key] !== props[key]);
  }

  override render() {
    const { message, index, total, rowHeight, selected, open, cursor, current, list, now, actions } = this.props;
    return (
      <li
        data-id={message.id}
        data-index={index}
        class={`${message.read ? 'read' : 'unread'}${selected ? ' selected' : ''}${open ? ' open' : ''}${cursor ? ' cursor' : ''}`}
        aria-setsize={total}
        aria-posinset={index + 1}
        aria-current={current ? 'true' : undefined}
        style={{ top: `${index * rowHeight}px` }}
      >
        <input type="checkbox" aria-label={`Select message: ${message.subject || '(no subject)'}`} checked={selected} onChange={() => actions.toggle(message.id)} />
        <a
          class="row"
          href={routeHref(messageRoute(message.id, list))}
          onClick={(e) => {
            if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
            e.preventDefault();
            actions.open(message, index);
          }}
        >
          <span class="from">{shortAddress(message.from)}</span>
          <span class="subject">
            {!message.read && <span class="visually-hidden">Unread: </span>}
            {message.tags.length > 0 && (
              <span class="row-tags">
                <span class="visually-hidden">Tags: </span>
                {message.tags.map((tag) => (
                  <TagChip key={tag} name={tag} />
                ))}
              </span>
            )}
            {message.subject || '(no subject)'}
          </span>
          <span class="snippet">{message.snippet}</span>
          <span class="meta">
            {message.hasAttachments && (
              <svg class="attachment-marker" viewBox="0 0 16 16" width="14" height="14" role="img" aria-label="Has attachments">
                <title>Has attachments</title>
                <path d="M10.5 3.5 5 9a1.8 1.8 0 0 0 2.5 2.5l6-6a3.2 3.2 0 0 0-4.5-4.5l-6 6a4.6 4.6 0 0 0 6.5 6.5L14 8" fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round" />
              </svg>
            )}
            <span class="size">{formatSize(message.size)}</span>
            <time dateTime={message.receivedAt} title={absoluteTime(message.receivedAt)}>
              {relativeTime(message.receivedAt, now)}
            </time>
          </span>
        </a>
      </li>
    );
  }
}
