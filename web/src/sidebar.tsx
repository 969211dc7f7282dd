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

/**
 * A sidebar entry's name and count. Its link's accessible name is its text, so the words a screen
 * reader needs around the bare number are there, visually hidden: "invite, 3 messages". (An
 * aria-label of the same words did not contain the visible text, which fails WCAG 2.5.3, label in
 * name: a voice user says what they see.) The comma sits inside the name's box: the two boxes are
 * flex items, and a name is computed with a space between boxes.
 */
function NameAndCount({ name, count, noun }: { name: ComponentChildren; count: number; noun: readonly [one: string, many: string] }) {
  return (
    <>
      <span class="sidebar-name">
        {name}
        {count > 0 && <span class="visually-hidden">, </span>}
      </span>
      {count > 0 && (
        <span class="sidebar-count">
          {count.toLocaleString()}
          <span class="visually-hidden"> {count === 1 ? noun[0] : noun[1]}</span>
        </span>
      )}
    </>
  );
}

const UNREAD = ['unread', 'unread'] as const;
const MESSAGES = ['message', 'messages'] as const;

interface EntryProps {
  readonly to: ListContext;
  readonly current: boolean;
  readonly onPick: (list: ListContext) => void;
  readonly children: ComponentChildren;
}

function Entry({ to, current, onPick, children }: EntryProps) {
  return (
    <a
      class="sidebar-link"
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
          <Entry to={{ mailbox: null, query: list.query }} current={list.mailbox === null} onPick={onPick}>
            <NameAndCount name="All mailboxes" count={allUnread} noun={UNREAD} />
          </Entry>
        </li>
        {shown.map((mailbox) => (
          <li key={mailbox.name}>
            <Entry to={{ mailbox: mailbox.name, query: list.query }} current={list.mailbox === mailbox.name} onPick={onPick}>
              <NameAndCount name={mailbox.name} count={mailbox.unread} noun={UNREAD} />
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
                >
                  <NameAndCount name={<TagChip name={tag.name} />} count={tag.count} noun={MESSAGES} />
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
