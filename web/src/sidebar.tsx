/**
 * The sidebar: mailboxes with their unread counts ("All mailboxes" first), the tags of the shown
 * mailbox with their counts (a tag shows the search `tag:NAME`), and saved searches (kept in this
 * browser). Each entry is a link to its list, so it can also be opened in a new tab; the one shown
 * is marked aria-current.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { getTags, type Mailbox, type TagCount } from './api.js';
import type { LiveFeed } from './feed.js';
import { createCoalescer } from './hooks.js';
import { frameMailbox } from './live.js';
import { listRoute, routeHref, sameList, type ListContext } from './route.js';
import type { SavedSearches } from './saved-searches.js';
import { TagChip } from './tags.js';

interface Props {
  /** GET /api/mailboxes, kept current by the App; null until its first answer. */
  readonly mailboxes: readonly Mailbox[] | null;
  /** The list shown (beside an open message, the one it was opened from). */
  readonly list: ListContext;
  readonly saved: SavedSearches;
  readonly feed: LiveFeed;
  /** Show this list (a plain click on an entry). */
  readonly onPick: (list: ListContext) => void;
}

/** A mailbox's name for screen readers: with its unread count, which shows as a bare number. */
const withUnread = (name: string, unread: number): string => (unread > 0 ? `${name}, ${unread.toLocaleString()} unread` : name);

function UnreadCount({ unread }: { unread: number }) {
  return unread > 0 ? <span class="sidebar-count">{unread.toLocaleString()}</span> : null;
}

interface EntryProps {
  readonly to: ListContext;
  readonly current: boolean;
  readonly onPick: (list: ListContext) => void;
  /** The accessible name, when the visible text alone would not say it. */
  readonly label?: string;
  readonly children: ComponentChildren;
}

function Entry({ to, current, onPick, label, children }: EntryProps) {
  return (
    <a
      class="sidebar-link"
      aria-label={label}
      href={routeHref(listRoute(to))}
      aria-current={current ? 'page' : undefined}
      onClick={(event) => {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        onPick(to);
      }}
    >
      {children}
    </a>
  );
}

function Mailboxes({ mailboxes, list, onPick }: Pick<Props, 'mailboxes' | 'list' | 'onPick'>) {
  const listed = mailboxes ?? [];
  // One mailbox (Kotak without routing) leaves nothing to switch between. A mailbox named by the
  // URL keeps the section, so the way back to "All mailboxes" is always on screen.
  if (listed.length < 2 && !list.mailbox) return null;
  // A mailbox in the URL that the server does not list (emptied, or a typo) still shows as chosen.
  const shown = list.mailbox && !listed.some((m) => m.name === list.mailbox) ? [...listed, { name: list.mailbox, unread: 0 }] : listed;
  const allUnread = listed.reduce((sum, m) => sum + m.unread, 0);
  // Switching mailbox keeps the search, as the search box does.
  return (
    <section class="sidebar-section" aria-labelledby="sidebar-mailboxes">
      <h2 id="sidebar-mailboxes">Mailboxes</h2>
      <ul aria-labelledby="sidebar-mailboxes">
        <li>
          <Entry to={{ mailbox: null, query: list.query }} current={list.mailbox === null} onPick={onPick} label={withUnread('All mailboxes', allUnread)}>
            <span class="sidebar-name">All mailboxes</span>
            <UnreadCount unread={allUnread} />
          </Entry>
        </li>
        {shown.map((mailbox) => (
          <li key={mailbox.name}>
            <Entry to={{ mailbox: mailbox.name, query: list.query }} current={list.mailbox === mailbox.name} onPick={onPick} label={withUnread(mailbox.name, mailbox.unread)}>
              <span class="sidebar-name">{mailbox.name}</span>
              <UnreadCount unread={mailbox.unread} />
            </Entry>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** The search for one tag (tag names may hold spaces, never quotes). */
export const tagQuery = (name: string): string => (/\s/.test(name) ? `tag:"${name}"` : `tag:${name}`);

/** GET /api/tags for the mailbox shown (null: every mailbox), refetched as tags or messages change. */
function useTagCounts(mailbox: string | null, feed: LiveFeed): readonly TagCount[] | null {
  const [tags, setTags] = useState<readonly TagCount[] | null>(null);
  const refresh = useMemo(() => {
    let latest = mailbox;
    const load = createCoalescer(async () => {
      const asked = latest;
      try {
        const answer = await getTags(asked);
        if (asked === latest) setTags(answer.tags);
      } catch {
        // The next frame or reconnection tries again.
      }
    });
    return { load, follow: (next: string | null) => (latest = next) };
  }, []);
  useEffect(() => {
    refresh.follow(mailbox);
    void refresh.load(true);
  }, [mailbox, refresh]);
  useEffect(
    () =>
      feed.subscribe((frame) => {
        if (frame !== 'connected') {
          // Frames that can change a count: tags set or renamed, messages gone (with their tags).
          if (!['message:tagged', 'tags:changed', 'message:deleted', 'messages:cleared', 'message:stored'].includes(frame.type)) return;
          const about = frameMailbox(frame);
          if (mailbox && about && about !== mailbox) return;
        }
        void refresh.load();
      }),
    [feed, mailbox, refresh],
  );
  return tags;
}

function Tags({ mailbox, list, feed, onPick }: { mailbox: string | null } & Pick<Props, 'list' | 'feed' | 'onPick'>) {
  const tags = useTagCounts(mailbox, feed);
  if (tags === null) return null;
  return (
    <section class="sidebar-section" aria-labelledby="sidebar-tags">
      <h2 id="sidebar-tags">Tags</h2>
      {tags.length > 0 ? (
        <ul aria-labelledby="sidebar-tags">
          {tags.map((tag) => {
            const query = tagQuery(tag.name);
            return (
              <li key={tag.name}>
                <Entry
                  to={{ mailbox: list.mailbox, query }}
                  current={list.query === query}
                  onPick={onPick}
                  label={`${tag.name}, ${tag.count.toLocaleString()} ${tag.count === 1 ? 'message' : 'messages'}`}
                >
                  <span class="sidebar-name"><TagChip name={tag.name} /></span>
                  <span class="sidebar-count">{tag.count.toLocaleString()}</span>
                </Entry>
              </li>
            );
          })}
        </ul>
      ) : (
        <p class="sidebar-empty">No tags yet. Tag messages to find them here.</p>
      )}
    </section>
  );
}

function SavedSearchList({ saved, list, onPick }: Pick<Props, 'saved' | 'list' | 'onPick'>) {
  const canSave = list.query !== '' && !saved.queries.includes(list.query);
  return (
    <section class="sidebar-section" aria-labelledby="sidebar-saved">
      <h2 id="sidebar-saved">Saved searches</h2>
      {saved.queries.length > 0 ? (
        <ul aria-labelledby="sidebar-saved">
          {saved.queries.map((query) => (
            <li key={query} class="saved-search">
              <Entry to={{ mailbox: list.mailbox, query }} current={sameList(list, { mailbox: list.mailbox, query })} onPick={onPick}>
                <span class="sidebar-name">{query}</span>
              </Entry>
              <button type="button" class="sidebar-remove" aria-label={`Remove saved search ${query}`} title="Remove" onClick={() => saved.remove(query)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="sidebar-empty">Search, then save the search here to run it again in one click.</p>
      )}
      {canSave && (
        <button type="button" class="sidebar-save" onClick={() => saved.save(list.query)}>
          Save this search
        </button>
      )}
    </section>
  );
}

export function Sidebar({ mailboxes, list, saved, feed, onPick }: Props) {
  return (
    <div class="sidebar-content">
      <Mailboxes mailboxes={mailboxes} list={list} onPick={onPick} />
      <Tags mailbox={list.mailbox} list={list} feed={feed} onPick={onPick} />
      <SavedSearchList saved={saved} list={list} onPick={onPick} />
    </div>
  );
}
