/**
 * The open message's tags: chips (TagChip, a colour per name) each with a remove button, and an
 * input to add one, suggesting the mailbox's existing tags (a <datalist>). Changes go through
 * `PUT api/messages/{id}/tags`; changes made elsewhere arrive live (`message:tagged` for this
 * message; `tags:changed`, a rename or removal across many, makes it refetch).
 */
import { useEffect, useState } from 'preact/hooks';
import { getMessage, getTags, setMessageTags } from './api.js';
import type { LiveFeed } from './feed.js';
import { TagChip } from './tags.js';

interface Props {
  readonly id: string;
  readonly mailbox: string;
  readonly initial: readonly string[];
  readonly feed: LiveFeed;
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function MessageTags({ id, mailbox, initial, feed }: Props) {
  const [tags, setTags] = useState<readonly string[]>(initial);
  const [known, setKnown] = useState<readonly string[]>([]);
  const [draft, setDraft] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => setTags(initial), [id, initial]);

  useEffect(() => {
    let current = true;
    const loadKnown = () =>
      getTags(mailbox).then(
        (list) => current && setKnown(list.tags.map((t) => t.name)),
        () => undefined,
      );
    void loadKnown();
    const stop = feed.subscribe((frame) => {
      if (frame === 'connected') {
        void loadKnown();
        void getMessage(id).then((m) => current && setTags(m.tags), () => undefined);
      } else if (frame.type === 'message:tagged') {
        if (frame.data.id === id) setTags(frame.data.tags);
        if (frame.data.mailbox === mailbox) void loadKnown();
      } else if (frame.type === 'tags:changed' && (frame.data.mailbox === null || frame.data.mailbox === mailbox)) {
        void loadKnown();
        void getMessage(id).then((m) => current && setTags(m.tags), () => undefined);
      }
    });
    return () => {
      current = false;
      stop();
    };
  }, [feed, id, mailbox]);

  async function save(next: readonly string[]) {
    setBusy(true);
    setError(null);
    try {
      setTags((await setMessageTags(id, next)).tags);
      return true;
    } catch (err) {
      setError((err as Error).message);
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function add() {
    const name = draft.trim();
    if (name === '') return;
    if (tags.some((t) => sameName(t, name))) {
      setDraft('');
      return;
    }
    if (await save([...tags, name])) setDraft('');
  }

  const suggestions = known.filter((k) => !tags.some((t) => sameName(t, k)));
  const listId = `tag-suggestions-${id}`;

  return (
    <div class="message-tags" role="group" aria-label="Tags">
      {tags.length > 0 && (
        <ul class="message-tag-list" aria-label="Tags of this message">
          {tags.map((tag) => (
            <li key={tag}>
              <TagChip name={tag}>
                <button type="button" class="tag-remove" aria-label={`Remove tag ${tag}`} disabled={busy} onClick={() => void save(tags.filter((t) => t !== tag))}>
                  ×
                </button>
              </TagChip>
            </li>
          ))}
        </ul>
      )}
      <span class="tag-add">
        <input
          type="text"
          list={listId}
          aria-label="Add a tag"
          placeholder="Add a tag"
          maxLength={100}
          value={draft}
          onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              void add();
            } else if (e.key === 'Escape') {
              // Escape cancels what is being typed, then leaves the field, as in the search box;
              // prevented, so the view's own Escape (close the message) waits for the next press.
              e.preventDefault();
              if (draft !== '') setDraft('');
              else (e.target as HTMLInputElement).blur();
            }
          }}
        />
        <datalist id={listId}>
          {suggestions.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <button type="button" class="btn btn-secondary" disabled={busy || draft.trim() === ''} onClick={() => void add()}>
          Add tag
        </button>
      </span>
      {error && (
        <p class="error" role="alert">
          Could not change the tags: {error}
        </p>
      )}
    </div>
  );
}
